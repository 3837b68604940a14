/**
 * Which external services a test may use. `npm test` (scripts/test.mjs) starts a private Redis when none
 * answers and exports REDIS_URL. Without CI a missing service skips the suites that need it; under
 * CI=true the suite FAILS instead (a missing service must never pass silently).
 */
import { existsSync } from 'node:fs';
import { describe } from 'vitest';

export const IN_CI = process.env.CI === 'true';
export const REDIS_URL = process.env.REDIS_URL ?? '';
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const NGINX_PATH = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? '';

type Service = 'redis' | 'chromium' | 'nginx';

function available(service: Service): boolean {
  if (service === 'redis') return REDIS_URL !== '';
  if (service === 'chromium') return existsSync(CHROMIUM_PATH);
  return NGINX_PATH !== '';
}

const INSTALL: Record<Service, string> = {
  redis: 'run the tests through `npm test` (it starts one) or apt-get install -y redis-server',
  chromium: 'apt-get install -y chromium',
  nginx: 'apt-get install -y nginx',
};

/** `describe` that needs `services`: skipped locally when one is missing, failing under CI=true. */
export function describeWith(services: Service[], name: string, body: () => void): void {
  const missing = services.filter((s) => !available(s));
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  if (IN_CI) {
    describe(name, () => {
      throw new Error(`missing required service(s) ${missing.join(', ')}: ${missing.map((m) => INSTALL[m]).join('; ')}`);
    });
    return;
  }
  describe.skip(`${name} (skipped: missing ${missing.join(', ')})`, body);
}
