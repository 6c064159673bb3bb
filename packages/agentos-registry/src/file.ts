export * from '@agentos-registry/source-file';
