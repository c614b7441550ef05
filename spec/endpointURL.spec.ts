import { endpointURL } from '../src/client';

test.each([
  ['https://api.openai.com/v1', '/chat/completions', 'https://api.openai.com/v1/chat/completions'],
  ['https://api.openai.com/v1/', 'chat/completions', 'https://api.openai.com/v1/chat/completions'],
  ['/v1', '/responses', '/v1/responses'],
  [
    'https://r.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21',
    '/chat/completions',
    'https://r.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21',
  ],
  ['https://r.example/v1/?api-version=1', '/x?stream=true', 'https://r.example/v1/x?api-version=1&stream=true'],
  ['http://127.0.0.1:8787/v1', '/x?a=1', 'http://127.0.0.1:8787/v1/x?a=1'],
])('endpointURL(%s, %s) is %s', (baseURL, path, expected) => {
  expect(endpointURL(baseURL, path)).toBe(expected);
});
