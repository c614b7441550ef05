import { formatBundleSize, GZIP_BUDGET_BYTES, GZIP_LIMIT_BYTES, GZIP_MARGIN_BYTES, measurePackedBundleSize } from '../bundle-size.js';
import { bytes, judge, type Section } from '../report.js';

/** The browser bundle of a typical import from the packed package, measured by bench/bundle-size.ts (needs `npm run build`). */
export async function bundleScenario(): Promise<Section> {
  const report = await measurePackedBundleSize();
  return {
    title: 'Browser bundle',
    setup:
      `\`import { ${report.imports.join(', ')} } from 'openai-rx'\` with the packed package installed (its browser build, dist/esm): ` +
      'esbuild, platform browser, rxjs external, minified, gzip level 9.',
    tables: [
      {
        head: ['package', 'minified bytes'],
        rows: report.byPackage.map(({ name, bytes: size }) => [name, bytes(size)]),
      },
      {
        head: ['openai-rx module', 'minified bytes'],
        rows: report.byModule.map(({ name, bytes: size }) => [name, bytes(size)]),
      },
    ],
    notes: [formatBundleSize(report), ...report.warnings.map((warning) => `esbuild warning: ${warning}`)],
    checks: [
      {
        scenario: 'browser bundle (client + chat operators, rxjs external)',
        figure: 'min+gzip',
        measured: `${report.gzipBytes.toLocaleString('en-US')} B (${bytes(report.gzipBytes)})`,
        target: `≤ ${GZIP_LIMIT_BYTES.toLocaleString('en-US')} B (${bytes(GZIP_BUDGET_BYTES)} budget less a ${GZIP_MARGIN_BYTES} B margin)`,
        ...judge(report.gzipBytes, GZIP_LIMIT_BYTES, 'lower'),
      },
    ],
  };
}
