import { Child } from './children.js';
import type { RelayReady } from './relayServer.js';

// Relay processes for the resume scenario (bench/resumeRelayServer.ts), one of build.ts's child scripts.

/** How the relay keeps streams: not at all, in its memory, or in the Redis at this URL. */
export type ResumeRelayMode = 'off' | 'memory' | { redisUrl: string };

export function startResumeRelay(upstreamBaseURL: string, mode: ResumeRelayMode, name: string, nodeFlags: string[] = []): Promise<Child<RelayReady>> {
  const arg = typeof mode === 'string' ? mode : mode.redisUrl;
  return Child.start<RelayReady>('resumeRelayServer', { name, args: [upstreamBaseURL, arg], nodeFlags });
}
