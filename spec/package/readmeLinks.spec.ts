import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The README is also the package's page on the registry, which serves none of the repository's other
// files: a relative link there resolves against the registry (or not at all, depending on the site).
// So every link is either an anchor of the README itself or absolute, and links into the repository
// name files that exist.
const repoRoot = join(__dirname, '..', '..');
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { repository: { url: string } };
const repository = manifest.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
const repositoryPath = repository.replace('https://github.com/', '');

/** Markdown links and images outside code blocks and code spans. */
function links(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, 'code');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

const headings = new Set(
  readme
    .replace(/^```[\s\S]*?^```/gm, '')
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => anchor(line.replace(/^#+ /, ''))),
);

test('every README link is an anchor of the README or absolute', () => {
  const found = links(readme);
  expect(found.length).toBeGreaterThan(5);
  expect(found.filter((target) => !target.startsWith('#') && !target.startsWith('https://'))).toEqual([]);
});

test('every anchor names a heading of the README', () => {
  const anchors = links(readme).filter((target) => target.startsWith('#'));
  expect(anchors.length).toBeGreaterThan(0);
  expect(anchors.filter((target) => !headings.has(target.slice(1)))).toEqual([]);
});

test("every link into the repository names a file that exists on the package's repository", () => {
  const intoRepository = links(readme)
    .map((target) => {
      const path = new RegExp(`^https://(?:github\\.com/${repositoryPath}/(?:blob|tree)|raw\\.githubusercontent\\.com/${repositoryPath})/main/([^#]+)`).exec(target);
      return path && { target, path: path[1] };
    })
    .filter((link) => link !== null);

  expect(intoRepository.length).toBeGreaterThan(5);
  expect(intoRepository.filter(({ path }) => !existsSync(join(repoRoot, path))).map(({ target }) => target)).toEqual([]);
  expect(links(readme).filter((target) => target.includes('github.com/') && !target.includes(repositoryPath))).toEqual([]);
});

test('the package names its repository and has its license file (npm packs LICENSE whatever "files" says)', () => {
  expect(repository).toBe('https://github.com/openai-rx/openai-rx');
  expect(readFileSync(join(repoRoot, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the openai-rx authors\n/);
});
