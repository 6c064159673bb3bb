// Everything tests need to stand up real servers on 127.0.0.1; one module per concept.
export { basicAuthHeader, checkAuthorization, type ServerAuth, withoutSecrets } from './auth.js';
export { type CgiOptions, type CgiOutcome, parseCgiHeaders, runCgi } from './cgi.js';
export { Cleanup, type Closable, withServers } from './cleanup.js';
export { contentTypeFor } from './content-type.js';
export {
  type FaultProxy,
  type FaultProxyOptions,
  type FaultProxyRequestLog,
  startFaultProxy,
} from './fault-proxy.js';
export { type Fault, type FaultRule, FaultTable, garbageBytes } from './fault-rules.js';
export {
  type ForwardProxy,
  type ForwardProxyOptions,
  type ForwardProxyRequestLog,
  startForwardProxy,
} from './forward-proxy.js';
export { type HostileBehaviour, type HostileRequestLog, type HostileServer, type HostileServerOptions, startHostileServer } from './hostile-server.js';
export { freePort, LOOPBACK, refusedPort, waitForPort } from './free-port.js';
export { type GitDaemon, type GitDaemonOptions, type GitDaemonRequestLog, startGitDaemon } from './git-daemon.js';
export {
  GIT_IDENTITY,
  GitCommandError,
  type GitResult,
  gitConfigEnv,
  gitEnv,
  type RunGitOptions,
  runGit,
} from './git-env.js';
export {
  type GitHttpRequestLog,
  type GitHttpServer,
  type GitHttpServerOptions,
  startGitHttpServer,
} from './git-http-server.js';
export { type CommitOptions, type CreateGitRepoOptions, createGitRepo, type GitRepo, type RepoFiles } from './git-repo.js';
export { commitRawTree, type RawTreeCommitOptions, type RawTreeItem } from './git-raw-tree.js';
export { type Listening, listenOnLoopback } from './listen.js';
export { isLoopbackHost } from './loopback-guard.js';
export {
  type StaticRequestLog,
  type StaticServer,
  type StaticServerOptions,
  startStaticServer,
} from './static-server.js';
export { makeTempDir, type TempDir } from './temp-dir.js';
export {
  type GitHubEmulator,
  type GitHubEmulatorOptions,
  type GitHubEmulatorRepo,
  type GitHubRequestLog,
  type SecondaryRateLimitOptions,
  startGitHubEmulator,
} from './github-emulator.js';
export type { RateLimitSettings, RateLimitState } from './github-emulator-rate-limit.js';
export {
  type PackageSource,
  startVerdaccio,
  VERDACCIO_PRIVATE_SCOPE,
  VERDACCIO_PUBLISHER,
  type VerdaccioAccessRule,
  type VerdaccioOptions,
  type VerdaccioRequestLog,
  type VerdaccioServer,
} from './verdaccio.js';
export { type MemoryMeasure, MiB, measurePeakRss } from './memory-probe.js';
export { hasOpenssl, makeTestCertificates, type TestCertificates, type TlsFront, startTlsFront } from './tls-front.js';
export {
  DOCKER_REGISTRY_BIN,
  hasDockerRegistry,
  OCI_TEST_USER,
  type OciRegistry,
  type OciRegistryOptions,
  type OciRequestLog,
  type OciSideRequestLog,
  startOciRegistry,
} from './oci-registry.js';
