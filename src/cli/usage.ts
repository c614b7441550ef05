import { DEFAULT_BASE_URL } from '../client.js';
import { MOCK_TOKEN_DELAY_MS } from './upstream.js';

/** The help text of every command, printed by `--help` (and `openai-rx help <command>`). */
export const HELP = {
  main: `openai-rx: OpenAI-compatible streaming completions as RxJS Observables

Usage: openai-rx <command> [options]

Commands:
  chat "prompt"   stream an answer to stdout (live status and stats on stderr)
  relay           run the byte-faithful SSE relay in front of an upstream
  mock            run the mock upstream: a deterministic simulated model
  demo            run the relay with the demo page (what \`npm start\` runs)
  help [command]  show the help of a command

Options:
  -h, --help      show this help
  --version       print the version

Environment: OPENAI_API_KEY, OPENAI_BASE_URL (default ${DEFAULT_BASE_URL}).
Run openai-rx <command> --help for the options of a command.
`,

  chat: `Usage: openai-rx chat [options] "prompt"

Streams the answer to stdout as it arrives. With no prompt argument the prompt
is read from stdin. On a terminal, stderr shows a live status (waiting /
streaming with tokens per second); at the end a stats line: time to first
token, tokens, tokens/s, duration, finish reason. Ctrl-C stops the stream at
once (exit code 130); a closed stdout (| head) aborts the request and exits 0.

Options:
  -m, --model <name>     model (default gpt-4o-mini)
  -s, --system <text>    system message (Responses API: instructions)
      --base-url <url>   upstream base URL (default OPENAI_BASE_URL, else ${DEFAULT_BASE_URL})
      --api-key <key>    API key (default OPENAI_API_KEY; prefer the environment,
                         a command line is visible to other users of the machine)
      --mock             answer from the embedded mock upstream: no network, no key
      --raw              print the raw SSE frames as they arrived (for OpenAI's
                         framing byte for byte what the upstream sent)
      --json             print each parsed chunk (Responses API: event) as one JSON line
      --responses        use the Responses API (/responses) instead of chat completions
      --schema <file>    structured output: send the JSON Schema in <file> as a strict
                         json_schema response format (Responses: text.format). On a
                         terminal the object is shown growing on one line, then
                         pretty-printed; into a pipe only the final JSON, on one line.
                         An answer that is not JSON exits 6, a refusal 1
      --timeout <ms>     fail when the headers, the first event or the next event
                         take longer than <ms>; 0 waits without a limit (default:
                         10 min for the headers and for the first event, which a
                         reasoning model sends after thinking; 5 min between events)
  -q, --quiet            no live status, no stats line (errors are still printed)
  -v, --verbose          print the request and response, and the details of errors
  -h, --help             show this help

Exit codes: 0 done, 1 unexpected failure, 2 usage, 3 API error (HTTP status or
error event), 4 connection, 5 timeout, 6 protocol, 7 stream cut short,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

Examples:
  openai-rx chat --mock "What is a cold observable?"
  openai-rx chat -m gpt-4o-mini -s "Answer in one sentence." "Why is the sky blue?"
  openai-rx chat --mock --raw "hi" | head -n 4
  openai-rx chat --mock --schema person.json "Describe Ada Lovelace" | jq .name
  echo "Summarize: $(cat notes.txt)" | openai-rx chat
`,

  relay: `Usage: openai-rx relay [options]

Runs the SSE relay: POST /v1/chat/completions, /v1/completions and
/v1/responses go to the upstream with the relay's API key and come back byte
for byte, streamed; when a client leaves, the upstream request is aborted.
One log line per request on stderr. Ctrl-C / SIGTERM close open streams and exit.

Options:
  -p, --port <port>      port (default 8787; 0 picks a free one)
      --host <host>      interface to listen on (default 127.0.0.1)
      --upstream <url>   upstream base URL (default OPENAI_BASE_URL, else ${DEFAULT_BASE_URL})
      --api-key <key>    upstream API key (default OPENAI_API_KEY)
      --cors <origin>    let browser pages on this origin call the relay
                         (scheme://host[:port]); repeat for more, '*' for any
      --headers-timeout <ms>  close a connection whose request headers take
                         longer (408; default 10000)
      --request-timeout <ms>  close a connection whose whole request, body
                         included, takes longer (408; default 30000); a
                         streamed answer is not cut by it
      --metrics-port <port>  serve Prometheus metrics (GenAI semantic
                         conventions) at http://127.0.0.1:<port>/metrics; needs
                         @opentelemetry/api, @opentelemetry/sdk-metrics and
                         @opentelemetry/exporter-prometheus installed
      --resume           resume mode: a generation outlives its connection
                         (x-stream-id, GET /v1/streams/<id>, POST
                         /v1/streams/<id>/cancel), kept in this process
      --redis <url>      resume mode with the streams in Redis, shared by every
                         relay instance on it (needs the redis package)
  -v, --verbose          also log relay errors in full
  -h, --help             show this help

Example:
  openai-rx mock --port 8788 &
  openai-rx relay --upstream http://127.0.0.1:8788/v1
`,

  mock: `Usage: openai-rx mock [options]

Runs the mock upstream: an OpenAI-compatible server (chat completions,
completions, responses; streamed or not) with a deterministic simulated model.
The same prompt always gets the same answer, token by token; a request with
tools gets a tool call (its string arguments the prompt), tool results get
"The tool returned …"; a json_schema response_format (Responses: text.format)
gets JSON fitting the schema; stream_options.include_usage adds usage.

Directives in the last user message change one answer:
  [[mock:text=Hello there]]   answer exactly this text
  [[mock:tokens=N]]           a derived answer of N tokens
  [[mock:delay=MS]]           MS between tokens
  [[mock:error=429]]          answer with this HTTP status and an OpenAI error body
  [[mock:stall]]  [[mock:stall=N]]  [[mock:stall=headers]]
                              stop after the headers / after N tokens / never answer
  [[mock:cut]]  [[mock:cut=N]]      destroy the socket halfway / after N tokens
  [[mock:error-mid-stream]]   an error event inside the stream, then the end
  [[mock:times=N]]            the fault only for the first N identical requests
  [[mock:parallel]]           two tool calls at once (two tools, or one tool for the
                              prompt's parts before and after its first "and" or comma)
  [[mock:tool-rounds=N]]      N turns of tool calls before the text answer (default 1)

Options:
  -p, --port <port>      port (default 8788; 0 picks a free one)
      --host <host>      interface to listen on (default 127.0.0.1)
      --delay <ms>       pause before each token (default ${MOCK_TOKEN_DELAY_MS})
      --api-key <key>    require this key (Authorization: Bearer <key>), else answer 401
      --cors             allow any origin (for a page calling the mock directly)
  -h, --help             show this help
`,

  demo: `Usage: openai-rx demo [options]      (npm start runs this)

Serves the demo page at / and the relay at /v1. The page streams one
request into two panels: the parsed text (chatChunks -> contentDeltas) and the
raw SSE frames (encodeSse), with a Stop button. Scenarios: a long answer, a
reload mid-answer, a tool call, structured output (a form filling in as the
JSON streams: structuredOutput) and the tool loop (runTools, with a tool in
the page that Stop cancels). The upstream is OPENAI_BASE_URL / OPENAI_API_KEY
when a key is set, else the embedded mock (the page then offers buttons for
an error, a stall and a cut stream).

Options:
  -p, --port <port>      port (default PORT, else 8787; 0 picks a free one)
      --host <host>      interface to listen on (default 127.0.0.1)
      --upstream <url>   upstream base URL instead of OPENAI_BASE_URL
      --api-key <key>    upstream API key instead of OPENAI_API_KEY
      --mock             use the embedded mock even when a key is set
  -m, --model <name>     model the page asks for (default gpt-4o-mini)
      --delay <ms>       the embedded mock's pause before each token (default ${MOCK_TOKEN_DELAY_MS})
      --headers-timeout <ms>, --request-timeout <ms>
                         slow-client limits, as for openai-rx relay
  -h, --help             show this help
`,
} as const;

export type CommandName = Exclude<keyof typeof HELP, 'main'>;
