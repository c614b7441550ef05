import type { IncomingMessage, ServerResponse } from 'node:http';
import { demoHtml, type DemoPageConfig } from './html.js';

const SCRIPT_PATH = '/demo.js';

/**
 * Answers the demo page's own requests (`GET /`, its script) and returns
 * `false` for everything else, which the relay answers.
 */
export function demoPages(config: Omit<DemoPageConfig, 'scriptPath'>, script: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  const html = demoHtml({ ...config, scriptPath: SCRIPT_PATH });
  const files: Record<string, { type: string; body: string }> = {
    '/': { type: 'text/html; charset=utf-8', body: html },
    '/index.html': { type: 'text/html; charset=utf-8', body: html },
    [SCRIPT_PATH]: { type: 'text/javascript; charset=utf-8', body: script },
  };
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return true;
    }
    const file = files[path];
    if (!file) return false;
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': String(Buffer.byteLength(file.body)),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  };
}
