import { packageConfig } from '../../tsup.config.base.ts';

export default packageConfig({
  entry: ['src/index.ts', 'src/core.ts', 'src/file.ts', 'src/git.ts', 'src/github.ts', 'src/url.ts', 'src/npm.ts', 'src/extensions.ts', 'src/cli.ts'],
});
