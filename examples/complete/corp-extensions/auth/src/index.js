/**
 * The corp registry's auth extension, shaped like AgentOS's own (`@framers/agentos-ext-auth`): the module exports
 * `createAuthExtension(config)`, which returns the two services `agentos.initialize()` takes (`authService`,
 * `subscriptionService`), and the adapter classes behind them. A host takes them from the loaded module
 * (`(await registry.load('tool', 'com.example.auth')).module.createAuthExtension(...)`).
 *
 * Unlike AgentOS's package it also exports `createExtensionPack(context)` (a registry entry is loaded through it):
 * one tool, `check_feature_access`, that tells the agent what a user's tier includes. It uses only Node's built-ins
 * (HS256 JWTs with node:crypto, scrypt password hashes), so the registry installs nothing before loading it.
 * examples/complete/check-services.ts type-checks this file and its services against AgentOS's interfaces.
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * @typedef {{ id: string, email?: string | null, username?: string | null, roles?: string[], tier?: string | null, mode?: string | null }} AuthenticatedUser
 * @typedef {{ name: string, level: number, features?: string[], isActive?: boolean }} SubscriptionTier
 * @typedef {{ jwtSecret: string, expiresInSeconds?: number, now?: () => number }} JWTAuthConfig
 * @typedef {{ defaultTier?: string, tiers?: SubscriptionTier[] }} SubscriptionConfig
 * @typedef {{ auth?: JWTAuthConfig, subscription?: SubscriptionConfig }} AuthExtensionConfig
 */

/** @type {SubscriptionTier[]} */
const DEFAULT_TIERS = [
  { name: 'free', level: 0, features: [], isActive: true },
  { name: 'basic', level: 1, features: ['FEATURE_BASIC_TOOLS'], isActive: true },
  { name: 'pro', level: 2, features: ['FEATURE_BASIC_TOOLS', 'FEATURE_ADVANCED_SEARCH'], isActive: true },
];

/** @param {string | Buffer} bytes */
const base64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** Signs and checks HS256 JSON Web Tokens; implements AgentOS's `IAuthService`. */
export class JWTAuthAdapter {
  /** @param {JWTAuthConfig} config */
  constructor(config) {
    if (typeof config?.jwtSecret !== 'string' || config.jwtSecret === '') throw new Error('JWTAuthAdapter needs a jwtSecret');
    /** @private */
    this.secret = config.jwtSecret;
    /** @private */
    this.expiresIn = config.expiresInSeconds ?? 7 * 24 * 3600;
    /** @private */
    this.now = config.now ?? Date.now;
  }

  /** @returns {Promise<void>} */
  async initialize() {}

  /**
   * @param {string} unsigned
   * @private
   */
  sign(unsigned) {
    return createHmac('sha256', this.secret).update(unsigned).digest('base64url');
  }

  /**
   * @param {string} userId
   * @param {{ email?: string, username?: string, roles?: string[], tier?: string }} [claims]
   * @returns {string}
   */
  generateToken(userId, claims = {}) {
    const iat = Math.floor(this.now() / 1000);
    const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = base64url(JSON.stringify({ ...claims, sub: userId, iat, exp: iat + this.expiresIn }));
    return `${header}.${payload}.${this.sign(`${header}.${payload}`)}`;
  }

  /**
   * @param {string} token
   * @returns {Promise<AuthenticatedUser | null>}
   */
  async validateToken(token) {
    const [header, payload, signature, ...rest] = typeof token === 'string' ? token.split('.') : [];
    if (!header || !payload || !signature || rest.length > 0) return null;
    const expected = Buffer.from(this.sign(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    /** @type {{ sub?: unknown, exp?: unknown, email?: string, username?: string, roles?: string[], tier?: string }} */
    let claims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || claims.exp * 1000 <= this.now()) return null;
    return { id: claims.sub, email: claims.email ?? null, username: claims.username ?? null, roles: claims.roles ?? [], tier: claims.tier ?? null };
  }

  /**
   * @param {string} password
   * @returns {Promise<string>}
   */
  async hashPassword(password) {
    const salt = randomBytes(16);
    return `scrypt$${salt.toString('base64url')}$${(await scryptAsync(password, salt)).toString('base64url')}`;
  }

  /**
   * @param {string} password
   * @param {string} hash
   * @returns {Promise<boolean>}
   */
  async verifyPassword(password, hash) {
    const [scheme, salt, key] = hash.split('$');
    if (scheme !== 'scrypt' || !salt || !key) return false;
    const expected = Buffer.from(key, 'base64url');
    const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'));
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}

/**
 * @param {string} password
 * @param {Buffer} salt
 * @returns {Promise<Buffer>}
 */
function scryptAsync(password, salt) {
  return new Promise((resolve, reject) => scrypt(password, salt, 32, (error, key) => (error ? reject(error) : resolve(key))));
}

/** Subscription tiers per user; implements AgentOS's `ISubscriptionService`. */
export class SubscriptionAdapter {
  /** @param {SubscriptionConfig} [config] */
  constructor(config = {}) {
    /** @private @type {Map<string, SubscriptionTier>} */
    this.tiers = new Map((config.tiers ?? DEFAULT_TIERS).map((tier) => [tier.name, tier]));
    /** @private @type {Map<string, string>} */
    this.userTiers = new Map();
    /** @private */
    this.defaultTier = config.defaultTier ?? 'free';
  }

  /** @returns {Promise<void>} */
  async initialize() {}

  /**
   * @param {string} userId
   * @returns {Promise<SubscriptionTier | null>}
   */
  async getUserSubscription(userId) {
    if (!userId) return null;
    return this.tiers.get(this.userTiers.get(userId) ?? this.defaultTier) ?? null;
  }

  /**
   * @param {string} userId
   * @returns {Promise<SubscriptionTier | null>}
   */
  async getUserSubscriptionTier(userId) {
    return this.getUserSubscription(userId);
  }

  /**
   * @param {string} tierName
   * @returns {Promise<SubscriptionTier | null>}
   */
  async getTierByName(tierName) {
    return this.tiers.get(tierName) ?? null;
  }

  /** @returns {Promise<SubscriptionTier[]>} */
  async listTiers() {
    return [...this.tiers.values()].sort((a, b) => a.level - b.level);
  }

  /**
   * @param {string} userId
   * @param {string} feature
   * @returns {Promise<boolean>}
   */
  async validateAccess(userId, feature) {
    const tier = await this.getUserSubscription(userId);
    return tier?.isActive !== false && (tier?.features?.includes(feature) ?? false);
  }

  /**
   * @param {string} userId
   * @param {string} tierName
   */
  setUserTier(userId, tierName) {
    if (!this.tiers.has(tierName)) throw new Error(`unknown tier "${tierName}"`);
    this.userTiers.set(userId, tierName);
  }
}

/**
 * The host's services, as AgentOS's auth extension makes them.
 * @param {AuthExtensionConfig} [config]
 */
export function createAuthExtension(config = {}) {
  return {
    authService: new JWTAuthAdapter(config.auth ?? { jwtSecret: '' }),
    subscriptionService: new SubscriptionAdapter(config.subscription),
  };
}

/**
 * The agent's side: one tool over a subscription service built from the pack options (`tiers`, `defaultTier`).
 * @param {{ options?: { defaultTier?: string, tiers?: SubscriptionTier[] } }} [context]
 */
export function createExtensionPack(context = {}) {
  const subscriptions = new SubscriptionAdapter(context.options ?? {});
  const tool = {
    id: 'com.example.auth.check_feature_access',
    name: 'check_feature_access',
    displayName: 'Check feature access',
    description: "Says whether a user's subscription tier includes a feature.",
    category: 'security',
    version: '1.0.0',
    hasSideEffects: false,
    inputSchema: {
      type: 'object',
      properties: { userId: { type: 'string' }, feature: { type: 'string' } },
      required: ['userId', 'feature'],
      additionalProperties: false,
    },
    /** @param {{ userId?: unknown, feature?: unknown }} args */
    async execute(args) {
      if (typeof args?.userId !== 'string' || typeof args.feature !== 'string') return { success: false, error: 'needs "userId" and "feature" strings' };
      const tier = await subscriptions.getUserSubscription(args.userId);
      return { success: true, output: { tier: tier?.name ?? null, allowed: await subscriptions.validateAccess(args.userId, args.feature) } };
    },
  };
  return { name: 'com.example.auth', version: '1.0.0', descriptors: [{ id: tool.name, kind: 'tool', payload: tool }] };
}
