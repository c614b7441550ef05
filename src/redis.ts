// `openai-rx/redis`: the resume store shared by every relay instance on one Redis, an entry of its own because
// `redis` (node-redis) is an optional peer dependency: `openai-rx` itself must load without it.
export { redisResumeStore, type RedisResumeStoreClient, type RedisResumeStoreConfig } from './resume/redisResumeStore.js';
