import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { buildChildScripts } from './build.js';
import { SIZES, startContext, type BenchContext } from './context.js';
import { killAllChildrenNow, stopAllChildren } from './children.js';
import { benchmarksDocument } from './document.js';
import { environment, renderMarkdown, type Section } from './report.js';
import { bufferedCancelScenario, pacedCancelScenario } from './scenarios/cancel.js';
import { bundleScenario } from './scenarios/bundle.js';
import { concurrentScenario } from './scenarios/concurrent.js';
import { hostileAccumulateScenario } from './scenarios/hostileAccumulate.js';
import { relayScenario } from './scenarios/relay.js';
import { resumeScenario } from './scenarios/resume.js';
import { slowClientScenario } from './scenarios/slowClient.js';
import { soakScenario } from './scenarios/soak.js';
import { structuredScenario } from './scenarios/structured.js';
import { throughputScenario } from './scenarios/throughput.js';

/*
 * `npm run bench` runs every scenario and prints a markdown report; `-- --quick` runs small counts (CI: under a
 * minute, timings not judged); `-- --write` also regenerates BENCHMARKS.md from this run; `-- --only a,b` runs
 * some scenarios; `-- --runs 3` runs them all three times, one round after another, and reports the median of the
 * rounds per summary figure beside the last round's tables; `-- --cpu-prof` writes a CPU profile of every client process to .bench-tmp/profiles.
 *
 * Exit code: 1 when the harness broke or a correctness check failed (an openai-rx subscriber received an event
 * after it unsubscribed, or the soak left a handle open), in quick mode too; missed timing targets never fail.
 */

const SCENARIOS: Record<string, (context: BenchContext) => Promise<Section>> = {
  throughput: throughputScenario,
  'buffered-cancel': bufferedCancelScenario,
  'paced-cancel': pacedCancelScenario,
  concurrent: concurrentScenario,
  relay: relayScenario,
  resume: resumeScenario,
  'slow-client': slowClientScenario,
  soak: soakScenario,
  bundle: bundleScenario,
  structured: structuredScenario,
  'hostile-accumulate': hostileAccumulateScenario,
};

const root = new URL('../', import.meta.url);
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    runs: { type: 'string', default: '1' },
  },
});
const mode = values.quick ? 'quick' : 'full';
const selected = values.only ? values.only.split(',').map((name) => name.trim()) : Object.keys(SCENARIOS);
const unknown = selected.filter((name) => !(name in SCENARIOS));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}
const roundCount = Number(values.runs);
if (!Number.isInteger(roundCount) || roundCount < 1 || roundCount > 9) {
  console.error(`--runs takes a count from 1 to 9, not ${values.runs}`);
  process.exit(2);
}
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');

process.on('exit', killAllChildrenNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildrenNow();
    process.exit(130);
  });
}

const profileDir = new URL('.bench-tmp/profiles/', root);
const clientFlags = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profileDir.pathname}`] : [];
if (values['cpu-prof']) mkdirSync(profileDir, { recursive: true });

const env = environment(mode, command, root);
const startedAt = performance.now();
/** The sections of every round, in order; the last round's tables are the ones shown. */
const rounds: Section[][] = [];
const failures: string[] = [];
try {
  await buildChildScripts();
  const context = await startContext(SIZES[mode], clientFlags);
  for (let round = 1; round <= roundCount; round++) {
    const sections: Section[] = [];
    rounds.push(sections);
    for (const name of selected) {
      const scenarioStart = performance.now();
      process.stderr.write(`bench: ${roundCount > 1 ? `round ${round}, ` : ''}${name} …`);
      try {
        sections.push(await SCENARIOS[name](context));
        process.stderr.write(` ${((performance.now() - scenarioStart) / 1000).toFixed(1)} s\n`);
      } catch (error) {
        process.stderr.write(' failed\n');
        failures.push(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    }
  }
} catch (error) {
  failures.push(`setup: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await stopAllChildren();
}

const markdown = renderMarkdown(
  { ...env, loadEnd: os.loadavg(), durationMs: performance.now() - startedAt },
  rounds,
  failures,
);
console.log(markdown);
if (values.write) {
  writeFileSync(new URL('BENCHMARKS.md', root), benchmarksDocument(markdown, mode));
  process.stderr.write('bench: wrote BENCHMARKS.md\n');
}
if (values['cpu-prof']) process.stderr.write(`bench: CPU profiles in ${profileDir.pathname}\n`);
const broken = rounds.flat().some((section) => section.checks.some((check) => check.verdict === 'FAIL'));
if (failures.length > 0 || broken) process.exitCode = 1;
