export * from '@agentos-registry/core';
