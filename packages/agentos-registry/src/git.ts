export * from '@agentos-registry/source-git';
