/**
 * An AgentOS extension pack with one tool whose payload follows AgentOS's `ITool` shape. The arithmetic is a fixed
 * table of operations: a tool never evaluates text it receives from a model.
 */

const OPERATIONS = {
  add: (a, b) => a + b,
  subtract: (a, b) => a - b,
  multiply: (a, b) => a * b,
  divide: (a, b) => a / b,
};

/** @param {{ options?: Record<string, unknown> }} [context] */
export function createExtensionPack(context = {}) {
  const options = context.options ?? {};
  const precision = Number.isInteger(options.precision) ? options.precision : 10;

  const calculatorTool = {
    id: 'com.example.calculator.calculator',
    name: 'calculator',
    displayName: 'Calculator',
    description: 'Applies one arithmetic operation (add, subtract, multiply, divide) to two numbers a and b.',
    category: 'math',
    version: '1.0.0',
    hasSideEffects: false,
    inputSchema: {
      type: 'object',
      properties: {
        operation: { type: 'string', enum: Object.keys(OPERATIONS), description: 'What to do with a and b.' },
        a: { type: 'number', description: 'Left operand.' },
        b: { type: 'number', description: 'Right operand.' },
      },
      required: ['operation', 'a', 'b'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { result: { type: 'number' }, expression: { type: 'string' } },
      required: ['result', 'expression'],
    },
    /** @param {{ operation?: unknown, a?: unknown, b?: unknown }} args */
    async execute(args, _executionContext) {
      const { operation: name, a, b } = args ?? {};
      if (typeof name !== 'string' || !Object.hasOwn(OPERATIONS, name)) {
        return { success: false, error: `unknown operation; use one of ${Object.keys(OPERATIONS).join(', ')}` };
      }
      if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b)) {
        return { success: false, error: 'a and b must be finite numbers' };
      }
      if (name === 'divide' && b === 0) {
        return { success: false, error: 'cannot divide by zero' };
      }
      const result = Number(OPERATIONS[name](a, b).toFixed(precision));
      const symbol = { add: '+', subtract: '-', multiply: '*', divide: '/' }[name];
      return { success: true, output: { result, expression: `${a} ${symbol} ${b} = ${result}` } };
    },
  };

  return {
    name: 'com.example.calculator',
    version: '1.0.0',
    descriptors: [{ id: calculatorTool.name, kind: 'tool', enableByDefault: true, payload: calculatorTool }],
  };
}

export default createExtensionPack;
