import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { from, lastValueFrom, map, type Observable } from 'rxjs';
import * as z from 'zod';
import { chatChunks, contentDeltas, partialJson, structuredOutput, type SseFrame } from '../../src/index.node.js';
import { formatBundleSize, measurePackedBundleSize, TYPICAL_IMPORTS } from '../bundle-size.js';
import { SIZES, type BenchContext } from '../context.js';
import { bytes, int, judge, ms, ratio, spreadText, type Check, type Section } from '../report.js';
import { rotate, spread, type Spread } from '../stats.js';

/*
 * Structured output, in this process: partialJson against one JSON.parse of the same text, and how its time grows
 * with the text; the packages that re-parse the whole text on every delta, side by side on a smaller text (they are
 * quadratic); the chat pipeline with and without structuredOutput; and what structuredOutput adds to the browser
 * bundle. Timed repetitions are interleaved round-robin.
 */

const PARSE_RATIO_TARGET = 10;
const GROWTH_TARGET = 5;
const PIPELINE_RATIO_TARGET = 0.5;
const BUNDLE_TARGET_BYTES = 2 * 1024;
/** The size of a delta: about one token. */
const DELTA_CHARS = 4;

interface Plan {
  /** partialJson's text; growth is measured on four times as much. */
  parseChars: number;
  /** The text the re-parsing packages get (and partialJson beside them). */
  reparseChars: number;
  /** The chat answer streamed through the pipelines. */
  pipelineChars: number;
  reps: number;
}

const PLANS: Record<'quick' | 'full', Plan> = {
  full: { parseChars: 1024 * 1024, reparseChars: 16 * 1024, pipelineChars: 256 * 1024, reps: 3 },
  quick: { parseChars: 128 * 1024, reparseChars: 8 * 1024, pipelineChars: 32 * 1024, reps: 2 },
};

/**
 * The two shapes measured: long text fields (few containers), and a list that grows with the answer. Each is
 * measured on a text and on four times as much; the records' time grows with the square of the list, so theirs
 * go from a quarter of the judged size up to it, and a run stays short.
 */
const SHAPES = [
  { shape: 'text fields', write: textFieldsDocument, scale: 1 },
  { shape: 'records', write: recordsDocument, scale: 1 / 4 },
] as const;

export async function structuredScenario(context: BenchContext): Promise<Section> {
  const plan = context.sizes === SIZES.quick ? PLANS.quick : PLANS.full;
  const checks: Check[] = [];
  const notes: string[] = [];

  const parseRows: string[][] = [];
  for (const { shape, write, scale } of SHAPES) {
    const texts = { small: write(scale * plan.parseChars), large: write(4 * scale * plan.parseChars) };
    // Cut before the clock starts: the deltas are partialJson's input, not its work.
    const deltas = { small: deltasOf(texts.small), large: deltasOf(texts.large) };
    const timed = time(plan.reps, {
      'JSON.parse small': () => void JSON.parse(texts.small),
      'partialJson small': () => partialJsonMs(deltas.small),
      'one delta small': () => partialJsonMs([texts.small]),
      'fresh roots small': () => freshRootsMs(deltas.small),
      'JSON.parse large': () => void JSON.parse(texts.large),
      'partialJson large': () => partialJsonMs(deltas.large),
      'one delta large': () => partialJsonMs([texts.large]),
      'fresh roots large': () => freshRootsMs(deltas.large),
    });
    const growth = timed['partialJson large'].median / timed['partialJson small'].median;
    for (const size of ['small', 'large'] as const) {
      const parse = timed[`JSON.parse ${size}`];
      const partial = timed[`partialJson ${size}`];
      parseRows.push([
        shape,
        bytes(texts[size].length),
        spreadText(parse, ms),
        spreadText(partial, ms),
        ratio(partial.median / parse.median),
        size === 'large' ? ratio(growth) : '',
        ratio(timed[`one delta ${size}`].median / parse.median),
        ratio(timed[`fresh roots ${size}`].median / parse.median),
      ]);
    }
    // Judged at the plan's size: the small text of the text fields, the large one of the records.
    const judged = scale === 1 ? 'small' : 'large';
    const parseRatio = timed[`partialJson ${judged}`].median / timed[`JSON.parse ${judged}`].median;
    checks.push(
      {
        scenario: `structured, ${shape}, ${bytes(texts[judged].length)} in ${DELTA_CHARS}-character deltas`,
        figure: 'partialJson ÷ one JSON.parse',
        measured: ratio(parseRatio),
        target: `≤ ${PARSE_RATIO_TARGET}`,
        ...judge(parseRatio, PARSE_RATIO_TARGET, 'lower'),
      },
      {
        scenario: `structured, ${shape}, ${bytes(texts.small.length)} → ${bytes(texts.large.length)}`,
        figure: 'partialJson time on 4× the text ÷ on 1×',
        measured: ratio(growth),
        target: `≤ ${GROWTH_TARGET}`,
        ...judge(growth, GROWTH_TARGET, 'lower'),
      },
    );
  }

  const reparse = await reparseTable(plan);
  const pipeline = await pipelineThroughput(plan);
  checks.push({
    scenario: `structured, chat answer of ${bytes(plan.pipelineChars)} in ${int(pipeline.chunks)} chunks`,
    figure: 'chunks/s with structuredOutput ÷ with contentDeltas alone',
    measured: ratio(pipeline.ratio),
    target: `≥ ${PIPELINE_RATIO_TARGET}`,
    ...judge(pipeline.ratio, PIPELINE_RATIO_TARGET, 'higher'),
  });
  if (!pipeline.correct) {
    checks.push({ scenario: 'structured, chat pipeline', figure: 'validated value equals the answer', measured: 'differs', target: 'equal', verdict: 'FAIL' });
  }

  const typical = await measurePackedBundleSize();
  const withStructured = await measurePackedBundleSize([...TYPICAL_IMPORTS, 'structuredOutput']);
  const withFormats = await measurePackedBundleSize([...TYPICAL_IMPORTS, 'structuredOutput', 'zodResponseFormat']);
  const added = withStructured.gzipBytes - typical.gzipBytes;
  checks.push({
    scenario: 'structured, browser bundle',
    figure: 'min+gzip added by structuredOutput to the typical import',
    measured: `${int(added)} B`,
    target: `≤ ${bytes(BUNDLE_TARGET_BYTES)}`,
    ...judge(added, BUNDLE_TARGET_BYTES, 'lower'),
  });
  notes.push(
    `Bundle: ${formatBundleSize(withStructured)}.`,
    `Adding zodResponseFormat too (zod's JSON Schema conversion) adds ${int(withFormats.gzipBytes - typical.gzipBytes)} B min+gzip to the typical import.`,
    'The last two columns are floors: partialJson given the whole text as one delta (the cost of reading the characters), and the same deltas each mapped to a new empty object through one operator (the cost of an emission per delta, nothing parsed). ' +
      'The rest of partialJson\'s time goes into the values handed out after every delta: each copies the containers on the path from the root to the change (the value handed out before stays as it was), a new object or array per level per delta. ' +
      'With a list that grows with the answer, that path holds the list, so the time per delta grows with its length — pace the deltas first (paceText) to copy it once per batch.',
    ...reparse.notes,
  );

  return {
    title: 'Structured output',
    setup:
      `In the bench process: JSON texts cut into ${DELTA_CHARS}-character deltas (about a token each; cut before the clock starts) through \`partialJson()\`, against one \`JSON.parse\` of the whole text; ` +
      `packages that re-parse the accumulated text on every delta, on a smaller text; SSE frames of a chat answer through \`chatChunks(), contentDeltas()\` with and without \`structuredOutput(schema)\` (zod, validated at the end). Medians of ${plan.reps} interleaved repetitions (min – max).`,
    tables: [
      {
        head: ['shape', 'text', 'JSON.parse', 'partialJson', 'partialJson ÷ JSON.parse', 'growth (4× text)', 'the text in one delta ÷ JSON.parse', 'a fresh object per delta ÷ JSON.parse'],
        rows: parseRows,
      },
      { head: ['parser', 'version', `${bytes(plan.reparseChars)} answer, ${DELTA_CHARS}-character deltas`, '÷ partialJson'], rows: reparse.rows },
      {
        head: ['pipeline', 'chunks/s', 'ratio'],
        rows: [
          ['chatChunks, contentDeltas', spreadText(pipeline.contentOnly, int), ''],
          ['chatChunks, contentDeltas, structuredOutput', spreadText(pipeline.structured, int), ratio(pipeline.ratio)],
        ],
      },
    ],
    notes,
    checks,
  };
}

/** Runs every task `reps` times, round-robin in a rotating order, after one warm-up each; ms per run. */
function time(reps: number, tasks: Record<string, () => void>): Record<string, Spread> {
  const names = Object.keys(tasks);
  for (const name of names) tasks[name]();
  const samples = new Map<string, number[]>(names.map((name) => [name, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const name of rotate(names, rep)) {
      const start = performance.now();
      tasks[name]();
      samples.get(name)!.push(performance.now() - start);
    }
  }
  return Object.fromEntries(names.map((name) => [name, spread(samples.get(name)!)]));
}

function deltasOf(text: string): string[] {
  const deltas: string[] = [];
  for (let at = 0; at < text.length; at += DELTA_CHARS) deltas.push(text.slice(at, at + DELTA_CHARS));
  return deltas;
}

/** The least an emission per delta costs: the same deltas, each mapped to a new empty object, through one operator to a subscriber. */
function freshRootsMs(deltas: readonly string[]): void {
  let last: unknown;
  from(deltas)
    .pipe(map(() => ({})))
    .subscribe((value) => (last = value));
  if (last === undefined) throw new Error('no emission');
}

/** partialJson over the text's deltas, subscribed synchronously; throws unless it ended with the whole value. */
function partialJsonMs(deltas: readonly string[]): void {
  let last: unknown;
  let failure: unknown;
  from(deltas)
    .pipe(partialJson())
    .subscribe({ next: (value) => (last = value), error: (error: unknown) => (failure = error) });
  if (failure !== undefined || last === undefined) throw new Error('partialJson did not parse the bench text', { cause: failure });
}

interface Reparser {
  name: string;
  version: string;
  /** The value of a partial text; may be async. */
  parse: (text: string) => unknown;
}

/** The packages that re-parse the accumulated text per delta, when installed (they are optional devDependencies). */
async function reparsers(): Promise<Array<Reparser | { name: string; missing: true }>> {
  const load = async (name: string, pick: (module: Record<string, unknown>) => (text: string) => unknown) => {
    let module: Record<string, unknown>;
    try {
      module = (await import(name)) as Record<string, unknown>;
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return { name, missing: true as const };
      throw error;
    }
    return { name, version: packageVersion(name), parse: pick(module) };
  };
  return [
    await load('partial-json', (module) => module.parse as (text: string) => unknown),
    await load('ai', (module) => module.parsePartialJson as (text: string) => unknown),
  ];
}

/** An installed package's version, read beside its entry point (not every package exports its package.json). */
function packageVersion(name: string): string {
  const entry = createRequire(import.meta.url).resolve(name);
  const root = entry.slice(0, entry.lastIndexOf(`node_modules${sep}${name}${sep}`) + `node_modules${sep}${name}`.length);
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

async function reparseTable(plan: Plan): Promise<{ rows: string[][]; notes: string[] }> {
  const text = textFieldsDocument(plan.reparseChars);
  const deltas = deltasOf(text);
  const ours = time(plan.reps, { partialJson: () => partialJsonMs(deltas) }).partialJson;
  const rows = [['openai-rx partialJson', 'this repository', spreadText(ours, ms), '1.00×']];
  const notes: string[] = [];
  for (const parser of await reparsers()) {
    if ('missing' in parser) {
      rows.push([parser.name, 'not installed', '', '']);
      continue;
    }
    const samples: number[] = [];
    for (let rep = 0; rep < plan.reps; rep++) {
      const start = performance.now();
      let accumulated = '';
      for (const delta of deltas) {
        accumulated += delta;
        await parser.parse(accumulated);
      }
      samples.push(performance.now() - start);
    }
    const theirs = spread(samples);
    rows.push([parser.name === 'ai' ? 'AI SDK parsePartialJson (ai)' : parser.name, parser.version, spreadText(theirs, ms), ratio(theirs.median / ours.median)]);
  }
  notes.push('The re-parsing packages read the whole text so far on every delta: their time grows with the square of the answer, which is why they get a smaller text.');
  return { rows, notes };
}

async function pipelineThroughput(plan: Plan) {
  const text = textFieldsDocument(plan.pipelineChars);
  const expected = JSON.parse(text) as unknown;
  const frames: SseFrame[] = deltasOf(text).map((content) => ({
    type: 'event',
    data: JSON.stringify({ id: 'chatcmpl-b', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] }),
  }));
  frames.push({ type: 'event', data: '[DONE]' });
  const drain = (source: Observable<unknown>) => lastValueFrom(source, { defaultValue: undefined });
  let validated: unknown;
  const runs = { contentOnly: [] as number[], structured: [] as number[] };
  const run = async (which: keyof typeof runs) => {
    const start = performance.now();
    const text$ = from(frames).pipe(chatChunks(), contentDeltas());
    if (which === 'contentOnly') await drain(text$);
    else validated = ((await drain(text$.pipe(structuredOutput(TextFields)))) as { value?: unknown } | undefined)?.value;
    return (frames.length / (performance.now() - start)) * 1000;
  };
  await run('contentOnly');
  await run('structured');
  for (let rep = 0; rep < plan.reps; rep++) {
    for (const which of rotate(['contentOnly', 'structured'] as const, rep)) runs[which].push(await run(which));
  }
  const contentOnly = spread(runs.contentOnly);
  const structured = spread(runs.structured);
  return {
    chunks: frames.length,
    contentOnly,
    structured,
    ratio: structured.median / contentOnly.median,
    correct: JSON.stringify(validated) === JSON.stringify(expected),
  };
}

const TextFields = z.object({
  title: z.string(),
  sections: z.array(z.object({ heading: z.string(), n: z.number(), ok: z.boolean(), paragraphs: z.array(z.string()), notes: z.string().nullable() })),
});

/** Words with a quote, a backslash, a newline, non-ASCII and an emoji, so escapes and surrogate pairs are exercised. */
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'lorem', 'ipsum', 'dolor', 'sit', 'amet', 'überall', 'naïve', '😀', 'quote"d', 'back\\slash', 'new\nline'];

function words(count: number, seed: number): string {
  let state = seed;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out.push(WORDS[state % WORDS.length]);
  }
  return out.join(' ');
}

/** About `chars` of JSON: 16 sections, each with three long paragraphs: the text grows inside strings. */
function textFieldsDocument(chars: number): string {
  const perParagraph = Math.max(1, Math.floor(chars / 16 / 3 / 6.5));
  const sections = Array.from({ length: 16 }, (_, n) => ({
    heading: words(4, n),
    n,
    ok: n % 2 === 0,
    paragraphs: [words(perParagraph, n * 3), words(perParagraph, n * 3 + 1), words(perParagraph, n * 3 + 2)],
    notes: n % 3 === 0 ? null : words(3, n),
  }));
  return JSON.stringify({ title: words(5, 99), sections }, null, 1);
}

/** About `chars` of JSON: a list of small records, as long as the text needs. */
function recordsDocument(chars: number): string {
  const records: unknown[] = [];
  let size = 0;
  while (size < chars) {
    const id = records.length;
    const record = { id, name: words(3, id), score: (id * 37) % 1000 / 10, active: id % 3 !== 0, tags: [words(1, id + 1), words(1, id + 2)], note: words(12, id + 3) };
    size += JSON.stringify(record).length + 4;
    records.push(record);
  }
  return JSON.stringify({ records }, null, 1);
}
