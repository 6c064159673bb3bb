// A synthetic registry in the page's shape, shared by the benchmarks that publish one through a server.

/** `count` tools, each a manifest, a little code and a README; returns path → file text, registry.json included. */
export function registryFiles(count) {
  const curated = [];
  const files = {};
  for (let i = 0; i < count; i++) {
    const id = `com.example.tool-${i}`;
    curated.push({ id, name: `Tool ${i}`, version: '1.0.0', path: `curated/tool-${i}` });
    files[`registry/curated/tool-${i}/manifest.json`] =
      `${JSON.stringify({ id, name: `Tool ${i}`, version: '1.0.0', extensions: [{ kind: 'tool', id: `tool-${i}` }] }, null, 2)}\n`;
    files[`registry/curated/tool-${i}/src/index.js`] =
      `// tool ${i}\nexport function createExtensionPack() {\n  return { name: 'tool-${i}', descriptors: [] };\n}\n`;
    files[`registry/curated/tool-${i}/README.md`] = `# Tool ${i}\n\n${'Documentation. '.repeat(40)}\n`;
  }
  files['registry.json'] = `${JSON.stringify({ version: '1.0.0', updated: '2024-11-14T00:00:00.000Z', extensions: { curated } }, null, 2)}\n`;
  return files;
}
