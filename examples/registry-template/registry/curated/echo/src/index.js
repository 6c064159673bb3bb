/**
 * An AgentOS extension pack with one tool. `createExtensionPack(context)` returns `{ name, version, descriptors }`;
 * each descriptor has an `id`, a `kind` and a `payload`, and a tool's payload has the shape of AgentOS's `ITool`:
 * identity, a JSON schema for the input, and `execute(args, context)` resolving to `{ success, output | error }`.
 * The file has no imports, so the registry needs to install nothing before loading it.
 */

/** @param {{ options?: Record<string, unknown>, logger?: { debug(message: string): void } }} [context] */
export function createExtensionPack(context = {}) {
  const options = context.options ?? {};
  const prefix = typeof options.prefix === 'string' ? options.prefix : '';

  const echoTool = {
    id: 'com.example.echo.echo',
    name: 'echo',
    displayName: 'Echo',
    description: 'Returns the text it is given. Set "uppercase" to true to shout it back.',
    category: 'utility',
    version: '1.0.0',
    hasSideEffects: false,
    inputSchema: {
      type: 'object',
      properties: {
        text: { type: 'string', description: 'The text to repeat.' },
        uppercase: { type: 'boolean', description: 'Return the text in upper case.', default: false },
      },
      required: ['text'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { text: { type: 'string' }, length: { type: 'integer' } },
      required: ['text', 'length'],
    },
    /**
     * @param {{ text?: unknown, uppercase?: unknown }} args
     * @param {{ gmiId?: string, personaId?: string }} [_executionContext]
     */
    async execute(args, _executionContext) {
      if (typeof args?.text !== 'string') {
        return { success: false, error: 'echo needs a "text" string argument' };
      }
      const text = prefix + (args.uppercase === true ? args.text.toUpperCase() : args.text);
      context.logger?.debug?.(`echo: ${text.length} characters`);
      return { success: true, output: { text, length: text.length } };
    },
  };

  return {
    name: 'com.example.echo',
    version: '1.0.0',
    descriptors: [{ id: echoTool.name, kind: 'tool', enableByDefault: true, payload: echoTool }],
  };
}

export default createExtensionPack;
