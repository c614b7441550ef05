import { DEFAULT_PROMPT, PIPELINES, presetsFor, type DemoPreset } from './presets.js';

export interface DemoPageConfig {
  /** The model the page asks for. */
  model: string;
  /** The embedded mock answers: the page also offers its fault scenarios. */
  mock: boolean;
  /** Where the relay sends requests, as the start-up line says it (never a key). */
  upstreamLabel: string;
  /** Path of the page's script bundle. */
  scriptPath: string;
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);

const GROUPS: ReadonlyArray<readonly [DemoPreset['group'], string]> = [
  ['answer', 'Try'],
  ['fault', 'Break it'],
];

function presetButtons(mock: boolean): string {
  const offered = presetsFor(mock);
  return GROUPS.map(([group, title]) => {
    const buttons = offered
      .filter((preset) => preset.group === group)
      .map((preset) => {
        const directive = mock && preset.mock ? ` data-directive="${escape(preset.mock)}"` : '';
        return `<button type="button" class="chip ${group}" data-preset="${escape(preset.id)}"${directive} title="${escape(preset.hint)}">${escape(preset.label)}</button>`;
      });
    return buttons.length === 0 ? '' : `<div class="group"><span class="group-title">${title}</span>${buttons.join('')}</div>`;
  }).join('');
}

const STYLE = `
  :root {
    color-scheme: light dark;
    --bg: #f4f5f9; --card: #fff; --line: #e1e4ec; --soft: #f0f1f6; --text: #1a1f2e; --muted: #687086;
    --accent: #6a45f5; --accent-soft: #efeaff; --ok: #13804a; --ok-soft: #e5f5ec; --warn: #b86a00; --warn-soft: #fff3dd;
    --err: #c4313b; --err-soft: #fdeced; --shadow: 0 1px 2px #1a1f2e0d, 0 6px 24px #1a1f2e0a;
    --mono: ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  }
  @media (prefers-color-scheme: dark) {
    :root {
      --bg: #0e1016; --card: #161922; --line: #272c39; --soft: #1d212c; --text: #e5e7ee; --muted: #9299ac;
      --accent: #8c6dff; --accent-soft: #2a2348; --ok: #3fbf7a; --ok-soft: #15291f; --warn: #e3a33b; --warn-soft: #2e2414;
      --err: #f0646c; --err-soft: #341a1d; --shadow: none;
    }
  }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--text); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  .page { max-width: 1240px; margin: 0 auto; padding: 24px 32px 28px; }
  button { font: inherit; color: inherit; cursor: pointer; }
  button:disabled { cursor: default; opacity: .45; }
  code { font-family: var(--mono); }

  .top { display: flex; align-items: center; gap: 12px 14px; flex-wrap: wrap; margin-bottom: 16px; }
  .title { display: flex; flex-direction: column; min-width: 0; }
  .logo { width: 34px; height: 34px; border-radius: 10px; display: grid; place-items: center; color: #fff;
    background: linear-gradient(135deg, #e3208b, #6a45f5); font: 700 14px var(--mono); letter-spacing: -.5px; }
  h1 { font-size: 20px; line-height: 1.2; margin: 0; letter-spacing: -.2px; }
  .tagline { color: var(--muted); font-size: 13.5px; }
  .upstream { margin-left: auto; display: flex; align-items: center; gap: 8px; max-width: 100%; font-size: 13px; color: var(--muted);
    background: var(--card); border: 1px solid var(--line); border-radius: 999px; padding: 4px 12px; }
  .upstream b { color: var(--text); font-weight: 600; }
  .upstream .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--ok); flex: none; }
  .upstream .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }

  .composer { background: var(--card); border: 1px solid var(--line); border-radius: 14px; box-shadow: var(--shadow); padding: 12px 12px 10px 16px; }
  .composer:has(textarea:focus) { border-color: var(--accent); }
  #history { display: flex; flex-direction: column; gap: 4px; margin: 2px 0 8px; font-size: 13.5px; }
  #history .turn { color: var(--muted); }
  #history .turn b { color: var(--text); font-weight: 600; margin-right: 6px; }
  textarea { display: block; width: 100%; border: 0; padding: 2px 0; resize: vertical; min-height: 48px; background: transparent;
    color: inherit; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; outline: none; }
  .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; margin-top: 6px; }
  #scenario { display: flex; align-items: center; gap: 8px; min-width: 0; max-width: 60%; font-size: 13px; white-space: nowrap;
    background: var(--accent-soft); border-radius: 999px; padding: 3px 4px 3px 12px; }
  #scenario[hidden] { display: none; }
  #scenario code { font-size: 11.5px; color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  #clear-scenario { border: 0; background: none; padding: 0 8px; font-size: 16px; line-height: 1; color: var(--muted); }
  .keys { margin-left: auto; color: var(--muted); font-size: 12px; }
  .keys kbd { font: 11px var(--mono); border: 1px solid var(--line); border-bottom-width: 2px; border-radius: 4px; padding: 0 4px; }
  #stop { border: 1px solid var(--line); background: var(--card); border-radius: 10px; padding: 7px 16px; }
  #send { border: 0; background: var(--accent); color: #fff; border-radius: 10px; padding: 8px 22px; font-weight: 600; }
  #send:hover { filter: brightness(1.08); }

  #presets { display: flex; flex-wrap: wrap; gap: 10px 28px; margin: 14px 0; }
  .group { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
  .group-title { font-size: 11.5px; font-weight: 600; text-transform: uppercase; letter-spacing: .07em; color: var(--muted); margin-right: 2px; }
  .chip { border: 1px solid var(--line); background: var(--card); border-radius: 999px; padding: 4px 13px; font-size: 13.5px; }
  .chip:hover { border-color: var(--accent); }
  .chip.fault::before { content: ""; display: inline-block; width: 7px; height: 7px; border-radius: 50%; background: var(--warn); margin-right: 7px; vertical-align: 1px; }

  #status { display: flex; align-items: center; gap: 12px; min-height: 46px; padding: 9px 16px; margin-bottom: 14px;
    background: var(--card); border: 1px solid var(--line); border-radius: 12px; }
  #status .icon { width: 10px; height: 10px; border-radius: 50%; background: var(--muted); flex: none; }
  #status-text { font-weight: 600; white-space: nowrap; }
  #status-detail { color: var(--muted); font-size: 13px; overflow: hidden; text-overflow: ellipsis; }
  #status[data-state="waiting"] .icon, #status[data-state="streaming"] .icon { background: var(--accent); animation: pulse 1.2s ease-in-out infinite; }
  #status[data-state="stalled"] { border-color: var(--warn); background: var(--warn-soft); }
  #status[data-state="stalled"] .icon { background: var(--warn); animation: pulse .6s ease-in-out infinite; }
  #status[data-state="done"] .icon { background: var(--ok); }
  #status[data-state="stopped"] .icon { border-radius: 2px; }
  #status[data-state="error"] { border-color: var(--err); background: var(--err-soft); }
  #status[data-state="error"] .icon { background: var(--err); }
  #status[data-state="error"] #status-text { color: var(--err); }
  #meter { flex: none; width: 140px; height: 6px; margin-left: auto; border-radius: 3px; background: var(--line); overflow: hidden; }
  #meter[hidden] { display: none; }
  #meter span { display: block; height: 100%; width: 0; background: var(--warn); transition: width .1s linear; }
  @keyframes pulse { 50% { opacity: .3; } }

  .panels { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 6fr); gap: 16px; }
  /* The panels take the rest of the window, so the whole demo fits on one screen. */
  .panel { display: flex; flex-direction: column; height: max(340px, calc(100vh - 370px)); overflow: hidden;
    background: var(--card); border: 1px solid var(--line); border-radius: 14px; box-shadow: var(--shadow); }
  .panel > header { display: flex; align-items: baseline; gap: 10px; padding: 10px 16px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  .panel h2 { font-size: 14px; margin: 0; }
  .panel > header code { font-size: 11.5px; color: var(--muted); overflow: hidden; text-overflow: ellipsis; }
  .panel > header .aside { margin-left: auto; font-size: 12px; color: var(--muted); }
  #resumed { margin-left: auto; font-size: 12px; font-weight: 600; color: var(--accent); background: var(--accent-soft); border-radius: 999px; padding: 1px 10px; }
  #resumed[hidden] { display: none; }
  .answer-body { flex: 1; overflow: auto; padding: 16px 20px; font-size: 15.5px; line-height: 1.7; }
  #text { white-space: pre-wrap; overflow-wrap: break-word; }
  .answer-body:not(:has(#ending:not([hidden]))) #structured:empty + #steps:empty + #tool-calls:empty + #text:empty:not([data-live])::before { content: "The answer appears here as it streams."; color: var(--muted); }
  #text[data-live]::after { content: ""; display: inline-block; width: 8px; height: 1.05em; margin-left: 2px; vertical-align: -2px;
    background: var(--accent); border-radius: 1px; animation: pulse 1s steps(2, start) infinite; }
  #tool-calls:empty, #structured:empty, #steps:empty { display: none; }

  .plan { border: 1px solid var(--line); border-radius: 12px; overflow: hidden; }
  .plan > header { display: flex; align-items: center; gap: 10px; padding: 8px 14px; background: var(--soft); border-bottom: 1px solid var(--line); font-weight: 600; font-size: 14px; }
  .plan-badge { margin-left: auto; font-size: 12px; font-weight: 600; border-radius: 999px; padding: 1px 10px; background: var(--accent-soft); color: var(--accent); }
  .plan[data-valid="true"] .plan-badge { background: var(--ok-soft); color: var(--ok); }
  .plan[data-valid="false"] .plan-badge { background: var(--err-soft); color: var(--err); }
  .field { display: grid; grid-template-columns: 8.5em minmax(0, 1fr); gap: 12px; padding: 6px 14px; border-bottom: 1px solid var(--line); font-size: 14px; transition: background .2s; }
  .field:last-child { border-bottom: 0; }
  .field-label { color: var(--muted); }
  .field output { overflow-wrap: anywhere; }
  .field output ul { margin: 0; padding-left: 1.1em; }
  .field[data-state="empty"] output::before { content: "…"; color: var(--muted); }
  .field[data-state="filling"] { background: var(--accent-soft); }

  .step { margin-bottom: 14px; }
  .step h3 { font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .07em; color: var(--muted); margin: 0 0 6px; }
  .step-text { white-space: pre-wrap; overflow-wrap: break-word; }
  .step-text:empty { display: none; }
  .tool-run { border: 1px solid var(--line); border-radius: 10px; margin: 8px 0; overflow: hidden; }
  .tool-run header { display: flex; align-items: baseline; gap: 10px; padding: 6px 12px; background: var(--soft); font-size: 13px; }
  .run-tool { font-weight: 600; }
  .run-args { color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .tool-state { margin-left: auto; font-size: 12px; font-weight: 600; white-space: nowrap; }
  .tool-run[data-state="running"] .tool-state { color: var(--accent); animation: pulse 1.2s ease-in-out infinite; }
  .tool-run[data-state="done"] .tool-state { color: var(--ok); }
  .tool-run[data-state="failed"] .tool-state, .tool-run[data-state="cancelled"] .tool-state { color: var(--err); }
  .tool-result { margin: 0; padding: 8px 12px; font: 12.5px/1.5 var(--mono); white-space: pre-wrap; overflow-wrap: anywhere; }
  .tool-result:empty { display: none; }
  .tool-call { border: 1px solid var(--line); border-radius: 10px; margin-bottom: 12px; overflow: hidden; }
  .tool-call header { font-size: 13px; padding: 6px 12px; background: var(--soft); border-bottom: 1px solid var(--line); color: var(--muted); }
  .tool-call header code { color: var(--text); font-weight: 600; }
  .tool-args { margin: 0; padding: 10px 12px; font: 13px/1.5 var(--mono); white-space: pre-wrap; overflow-wrap: anywhere; }
  #ending { display: flex; align-items: center; gap: 8px; width: fit-content; margin-top: 14px; padding: 4px 12px; border-radius: 999px; font-size: 13px; }
  #ending[hidden] { display: none; }
  #ending[data-kind="stopped"] { background: var(--soft); color: var(--muted); }
  #ending[data-kind="stopped"]::before { content: ""; width: 8px; height: 8px; border-radius: 2px; background: currentColor; }
  #ending[data-kind="error"] { background: var(--err-soft); color: var(--err); }
  #ending[data-kind="error"]::before { content: "!"; font-weight: 700; }

  #frames { list-style: none; flex: 1; overflow: auto; margin: 0; padding: 6px 0; font: 12px/1.75 var(--mono); }
  #frames:empty::before { content: "Frames appear here exactly as the relay sends them, one per line."; display: block; padding: 10px 16px; color: var(--muted); font-family: system-ui, sans-serif; font-size: 14px; }
  .frame { display: grid; grid-template-columns: 2.6em 10.5em minmax(0, 1fr); gap: 12px; padding: 0 16px; cursor: pointer; }
  .frame:hover { background: var(--soft); }
  .frame > * { overflow: hidden; text-overflow: ellipsis; white-space: pre; }
  .frame-id { color: var(--muted); text-align: right; }
  .frame-wire { color: var(--muted); }
  .frame:not(.open) wbr { display: none; }
  .frame.open .frame-wire { white-space: pre-wrap; overflow-wrap: anywhere; color: var(--text); }
  .frame-label { color: var(--text); }
  .frame[data-kind="content"] .frame-label { color: var(--accent); }
  .frame[data-kind="tool"] .frame-label { color: #c0398f; }
  .frame[data-kind="finish"] .frame-label, .frame[data-kind="done"] .frame-label { color: var(--ok); }
  .frame[data-kind="usage"] .frame-label { color: var(--warn); }
  .frame[data-kind="error"] .frame-label { color: var(--err); font-weight: 600; }
  .frame[data-kind="comment"] .frame-label, .frame[data-kind="role"] .frame-label { color: var(--muted); }
  .end { margin: 8px 16px 4px; padding: 3px 12px; width: fit-content; border-radius: 999px; font: 12.5px system-ui, sans-serif; }
  .end[data-kind="done"] { background: var(--ok-soft); color: var(--ok); }
  .end[data-kind="stopped"] { background: var(--soft); color: var(--muted); }
  .end[data-kind="error"] { background: var(--err-soft); color: var(--err); }

  footer { margin-top: 16px; font-size: 12.5px; color: var(--muted); }
  @media (max-width: 860px) {
    .page { padding: 16px; }
    .panels { grid-template-columns: 1fr; }
    .upstream { margin-left: 0; }
    .keys { display: none; }
    #scenario { max-width: 100%; }
    #stop { margin-left: auto; }
    .frame { grid-template-columns: 2.6em 8em minmax(0, 1fr); gap: 8px; padding: 0 10px; }
  }
`;

/** The demo page: a prompt box with scenarios, a status line, the parsed answer and the raw frames side by side. */
export function demoHtml(config: DemoPageConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>openai-rx demo</title>
<style>${STYLE}</style>
</head>
<body data-model="${escape(config.model)}" data-upstream="${config.mock ? 'mock' : 'external'}">
<div class="page">
<header class="top">
  <div class="logo" aria-hidden="true">rx</div>
  <div class="title"><h1>openai-rx</h1><span class="tagline">OpenAI-compatible streams as RxJS Observables: parsed and raw, stoppable, resumable.</span></div>
  <span class="upstream" title="${escape(`upstream: ${config.upstreamLabel}, through the relay at /v1`)}"><span class="dot"></span><b>${escape(config.model)}</b><span class="label">via ${escape(config.upstreamLabel.replace(/\s*\(.*\)$/, ''))}</span></span>
</header>
<form id="chat" class="composer">
  <div id="history" hidden></div>
  <textarea id="prompt" aria-label="Prompt" rows="2">${escape(DEFAULT_PROMPT)}</textarea>
  <div class="bar">
    <span id="scenario" hidden><span>Scenario: <b id="scenario-name"></b></span><code id="scenario-mock"></code><button id="clear-scenario" type="button" aria-label="Clear the scenario">×</button></span>
    <span class="keys"><kbd>Ctrl</kbd> + <kbd>Enter</kbd> sends</span>
    <button id="stop" type="button" disabled>Stop</button>
    <button id="send" type="submit">Send</button>
  </div>
</form>
<nav id="presets" aria-label="Scenarios">${presetButtons(config.mock)}</nav>
<div id="status" data-state="idle" role="status"><span class="icon"></span><span id="status-text">Ready</span><span id="status-detail"></span><span id="meter" hidden><span></span></span></div>
<main class="panels">
  <section class="panel" aria-labelledby="answer-title">
    <header><h2 id="answer-title">Answer</h2><code id="pipeline">${escape(PIPELINES.text)}</code><span id="resumed" hidden>↻ resumed after reload</span></header>
    <div class="answer-body" id="answer">
      <div id="structured"></div>
      <div id="steps"></div>
      <div id="tool-calls"></div>
      <div id="text" aria-live="polite"></div>
      <p id="ending" hidden></p>
    </div>
  </section>
  <section class="panel" aria-labelledby="raw-title">
    <header><h2 id="raw-title">Raw SSE frames</h2><code>events() → encodeSse()</code><span class="aside" id="frame-count"></span></header>
    <ol id="frames"></ol>
  </section>
</main>
<footer>Both panels read the same single request. Stop unsubscribes, which cancels the generation on the relay; a reload picks the answer up again. The page is plain DOM, openai-rx and rxjs.</footer>
</div>
<script type="module" src="${escape(config.scriptPath)}"></script>
</body>
</html>
`;
}
