export * from '@agentos-registry/source-github';
