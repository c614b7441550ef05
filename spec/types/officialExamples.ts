import type { OpenAIRxClient } from '../../src/api';

/*
 * Request bodies from the official `openai` SDK's README and OpenAI's guides, copied unchanged as
 * object literals: openai-rx's own parameter types accept what OpenAI documents.
 */

export function sdkReadme(client: OpenAIRxClient): void {
  // README: "Usage" (Responses API)
  client.responses.stream({
    model: 'gpt-5.5',
    instructions: 'You are a coding assistant that talks like a pirate',
    input: 'Are semicolons optional in JavaScript?',
  });

  // README: Chat Completions API
  client.chat.completions.stream({
    model: 'gpt-5.5',
    messages: [
      { role: 'developer', content: 'Talk like a pirate.' },
      { role: 'user', content: 'Are semicolons optional in JavaScript?' },
    ],
  });

  // README: "Vision"
  client.responses.stream({
    model: 'gpt-5.5',
    input: [
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is in this image?' },
          {
            type: 'input_image',
            image_url:
              'https://api.nga.gov/iiif/a2e6da57-3cd1-4235-b20e-95dcaefed6c8/full/!800,800/0/default.jpg',
          },
        ],
      },
    ],
  });

  // README: "Streaming responses"
  client.responses.stream({
    model: 'gpt-5.5',
    input: 'Say "Sheep sleep deep" ten times fast!',
    stream: true,
  });
}

export function functionCallingGuide(client: OpenAIRxClient, toolCall: { call_id: string }, result: number): void {
  // Function calling guide, Chat Completions
  client.chat.completions.stream({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'What is the weather like in Paris today?' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Get current temperature for a given location.',
          parameters: {
            type: 'object',
            properties: {
              location: {
                type: 'string',
                description: 'City and country e.g. Bogotá, Colombia',
              },
            },
            required: ['location'],
            additionalProperties: false,
          },
          strict: true,
        },
      },
    ],
  });

  // Function calling guide, Responses API: the tool, then the call's result sent back
  client.responses.stream({
    model: 'gpt-4.1',
    input: [
      { role: 'user', content: 'What is the weather like in Paris today?' },
      {
        type: 'function_call_output',
        call_id: toolCall.call_id,
        output: result.toString(),
      },
    ],
    tools: [
      {
        type: 'function',
        name: 'get_weather',
        description: 'Get current temperature for a given location.',
        parameters: {
          type: 'object',
          properties: {
            location: { type: 'string', description: 'City and country e.g. Bogotá, Colombia' },
          },
          required: ['location'],
          additionalProperties: false,
        },
        strict: true,
      },
    ],
  });
}

export function visionAndStructuredOutputGuides(client: OpenAIRxClient): void {
  // Images and vision guide, Chat Completions
  client.chat.completions.stream({
    model: 'gpt-4.1-mini',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: "What's in this image?" },
          {
            type: 'image_url',
            image_url: {
              url: 'https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg',
            },
          },
        ],
      },
    ],
  });

  // Structured outputs guide, Responses API
  client.responses.stream({
    model: 'gpt-4o-2024-08-06',
    input: [
      { role: 'system', content: 'Extract the event information.' },
      { role: 'user', content: 'Alice and Bob are going to a science fair on Friday.' },
    ],
    text: {
      format: {
        type: 'json_schema',
        name: 'calendar_event',
        schema: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            date: { type: 'string' },
            participants: { type: 'array', items: { type: 'string' } },
          },
          required: ['name', 'date', 'participants'],
          additionalProperties: false,
        },
        strict: true,
      },
    },
  });
}
