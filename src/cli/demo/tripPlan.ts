import * as z from 'zod/mini';
import { zodResponseFormat } from '../../index.js';

/**
 * The structured scenario's answer: a trip plan. Written with `zod/mini`,
 * like the library's own schemas, so the page bundle stays small; the page
 * parses the answer as it streams with `structuredOutput(TripPlan)`.
 */
export const TripPlan = z.object({
  destination: z.string(),
  theme: z.string(),
  days: z.int().check(z.minimum(1), z.maximum(14)),
  season: z.enum(['spring', 'summer', 'autumn', 'winter']),
  budget: z.object({ amount: z.number(), currency: z.enum(['EUR', 'USD', 'GBP']) }),
  highlights: z.array(z.string()),
  itinerary: z.array(z.object({ day: z.int(), plan: z.string() })),
  visaNeeded: z.boolean(),
  notes: z.nullable(z.string()),
});

export type TripPlan = z.infer<typeof TripPlan>;

/** The request field that asks for a {@link TripPlan}. */
export const TRIP_PLAN_FORMAT = zodResponseFormat(TripPlan, 'trip_plan', { description: 'A short trip plan' });
