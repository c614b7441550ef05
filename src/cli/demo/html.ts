export interface DemoPageConfig {
  /** The model the page asks for. */
  model: string;
  /** The embedded mock answers: the page offers its fault presets. */
  mock: boolean;
  /** Where the relay sends requests, as the start-up line says it (never a key). */
  upstreamLabel: string;
  /** Path of the page's script bundle. */
  scriptPath: string;
}

/** `[label, directive, with tools]`: the mock's `[[mock:…]]` directives the page offers as buttons. */
const PRESETS: ReadonlyArray<readonly [string, string, boolean]> = [
  ['Long answer', '[[mock:tokens=160]]', false],
  ['Tool call', '', true],
  ['HTTP 429', '[[mock:error=429]]', false],
  ['Error mid-stream', '[[mock:error-mid-stream]]', false],
  ['Stall (4 s idle timeout)', '[[mock:stall=8]]', false],
  ['Cut stream', '[[mock:cut]]', false],
];

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);

/** The demo page: a prompt box, Stop, the parsed text and the raw frames side by side. */
export function demoHtml(config: DemoPageConfig): string {
  const presets = config.mock
    ? `<div id="presets" aria-label="Mock presets"><span>Embedded mock presets:</span>
      ${PRESETS.map(
        ([label, directive, tools]) =>
          `<button type="button" data-directive="${escape(directive)}" data-tools="${tools}">${escape(label)}</button>`,
      ).join('\n      ')}</div>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>openai-rx demo</title>
<style>
  :root { color-scheme: light dark; --line: #8884; --muted: #888; font-family: system-ui, sans-serif; }
  body { margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem; }
  header { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
  h1 { font-size: 1.3rem; margin: 0; }
  .upstream { color: var(--muted); font-size: .9rem; }
  form { display: grid; grid-template-columns: 1fr auto; gap: .5rem; margin: 1rem 0 .5rem; }
  textarea { font: inherit; min-height: 3.5rem; padding: .5rem; resize: vertical; }
  .buttons { display: flex; flex-direction: column; gap: .4rem; }
  button { font: inherit; padding: .35rem .9rem; cursor: pointer; }
  button:disabled { cursor: default; opacity: .5; }
  .buttons button { min-width: 6rem; }
  #presets { display: flex; gap: .4rem; flex-wrap: wrap; align-items: center; font-size: .9rem; margin-bottom: .5rem; }
  #presets span { color: var(--muted); }
  label { font-size: .9rem; }
  #status { margin: .5rem 0; font-weight: 600; }
  #status[data-state="error"] { color: #d33; }
  #status[data-state="done"] { color: #2a2; }
  #stats { color: var(--muted); font-size: .85rem; margin: 0 0 .5rem; min-height: 1.2em; }
  main { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
  section { border: 1px solid var(--line); border-radius: 6px; display: flex; flex-direction: column; min-height: 24rem; max-height: 70vh; }
  h2 { font-size: .95rem; margin: 0; padding: .5rem .75rem; border-bottom: 1px solid var(--line); }
  h2 code { font-weight: normal; color: var(--muted); }
  #text { padding: .75rem; white-space: pre-wrap; overflow: auto; flex: 1; line-height: 1.5; }
  #tool-calls { margin: .75rem .75rem 0; padding: .5rem; border: 1px dashed var(--line); white-space: pre-wrap; }
  #frames { margin: 0; padding: .5rem .75rem .5rem 2.75rem; overflow: auto; flex: 1; font: .75rem/1.35 ui-monospace, monospace; }
  #frames li { white-space: pre-wrap; word-break: break-all; border-bottom: 1px dotted var(--line); padding: .15rem 0; }
  #frames li.comment { color: var(--muted); }
  #frames li.end { list-style: none; color: var(--muted); font-style: italic; }
  @media (max-width: 800px) { main { grid-template-columns: 1fr; } }
</style>
</head>
<body data-model="${escape(config.model)}" data-upstream="${config.mock ? 'mock' : 'external'}">
<header>
  <h1>openai-rx demo</h1>
  <span class="upstream">model <b>${escape(config.model)}</b> · upstream ${escape(config.upstreamLabel)}, through the relay at <code>/v1</code></span>
</header>
<form id="chat">
  <textarea id="prompt" aria-label="Prompt">Explain cold observables in a few sentences.</textarea>
  <div class="buttons">
    <button id="send" type="submit">Send</button>
    <button id="stop" type="button" disabled>Stop</button>
  </div>
</form>
${presets}
<label><input id="tools" type="checkbox"> offer a tool (<code>get_weather</code>)</label>
<p id="status" data-state="idle" role="status">idle</p>
<p id="stats"></p>
<main>
  <section aria-labelledby="parsed-title">
    <h2 id="parsed-title">Parsed text <code>events() → chatChunks() → contentDeltas()</code></h2>
    <pre id="tool-calls" hidden></pre>
    <div id="text" aria-live="polite"></div>
  </section>
  <section aria-labelledby="raw-title">
    <h2 id="raw-title">Raw SSE frames <code>events() → encodeSse</code></h2>
    <ol id="frames"></ol>
  </section>
</main>
<script type="module" src="${escape(config.scriptPath)}"></script>
</body>
</html>
`;
}
