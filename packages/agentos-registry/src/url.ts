export * from '@agentos-registry/source-url';
