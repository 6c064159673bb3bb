export * from '@agentos-registry/source-npm';
