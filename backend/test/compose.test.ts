/**
 * The production path (docker-compose.yml + Dockerfile + .env.example) checked without a
 * Docker engine: the compose file is parsed and interpolated the way compose does it, and
 * the app's environment is run through the real `loadConfig`. A deployment that would not
 * start, or would start against the wrong database, user or port, fails here first.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNotifiers } from '@siyu-pulse/alerts';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig, type Config } from '../src/config/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

// ---------------------------------------------------------------------------------------
// Compose interpolation: ${VAR}, $VAR, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
// ${VAR?error}, ${VAR:+alt}, ${VAR+alt} and $$ for a literal $. Defaults and messages may
// nest further references; like compose, they are only evaluated when used.
// ---------------------------------------------------------------------------------------
type Env = Readonly<Record<string, string | undefined>>;
type Op = '' | ':-' | '-' | ':?' | '?' | ':+' | '+';
/** `raw` is the default / message / alternative as written, `arg` the same parsed. */
type Part = { text: string } | { name: string; op: Op; raw: string; arg: Part[] };

class InterpolationError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`required variable ${variable} is missing a value: ${detail}`);
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

function parseTemplate(text: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$') {
      literal += c;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      literal += '$';
      i += 2;
      continue;
    }
    if (literal) parts.push({ text: literal });
    literal = '';
    if (next === '{') {
      const end = closingBrace(text, i + 2);
      parts.push(parseBraced(text.slice(i + 2, end)));
      i = end + 1;
      continue;
    }
    const name = NAME.exec(text.slice(i + 1))?.[0];
    if (!name) throw new Error(`invalid interpolation at ${i} in ${JSON.stringify(text)} (a literal $ is written $$)`);
    parts.push({ name, op: '', raw: '', arg: [] });
    i += 1 + name.length;
  }
  if (literal) parts.push({ text: literal });
  return parts;
}

/** Index of the `}` closing a `${` whose body starts at `from` (nested `${…}` allowed). */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    if (text.startsWith('$$', j)) j += 1;
    else if (text.startsWith('${', j)) {
      depth += 1;
      j += 1;
    } else if (text[j] === '}' && --depth === 0) return j;
  }
  throw new Error(`unterminated \${ in ${JSON.stringify(text)}`);
}

function parseBraced(body: string): Part {
  const name = NAME.exec(body)?.[0];
  if (!name) throw new Error(`invalid variable name in \${${body}}`);
  const rest = body.slice(name.length);
  if (rest === '') return { name, op: '', raw: '', arg: [] };
  const op = (['-', '?', '+'].includes(rest[0] ?? '') ? rest[0] : rest.slice(0, 2)) as Op;
  if (!['-', '?', '+', ':-', ':?', ':+'].includes(op)) throw new Error(`unsupported modifier in \${${body}}`);
  const raw = rest.slice(op.length);
  return { name, op, raw, arg: parseTemplate(raw) };
}

function render(parts: readonly Part[], env: Env): string {
  return parts
    .map((p) => {
      if ('text' in p) return p.text;
      const value = env[p.name];
      const set = value !== undefined;
      const nonEmpty = set && value !== '';
      const arg = () => render(p.arg, env);
      switch (p.op) {
        case '':
          return value ?? '';
        case ':-':
          return nonEmpty ? value : arg();
        case '-':
          return set ? value : arg();
        case ':?':
          if (!nonEmpty) throw new InterpolationError(p.name, arg());
          return value;
        case '?':
          if (!set) throw new InterpolationError(p.name, arg());
          return value;
        case ':+':
          return nonEmpty ? arg() : '';
        case '+':
          return set ? arg() : '';
      }
    })
    .join('');
}

function interpolate(text: string, env: Env): string {
  return render(parseTemplate(text), env);
}

/** Every variable a template mentions, with how it is used (nested ones included). */
function references(text: string): { name: string; op: Op; arg: string }[] {
  const out: { name: string; op: Op; arg: string }[] = [];
  const walk = (parts: readonly Part[]) => {
    for (const p of parts) {
      if ('text' in p) continue;
      out.push({ name: p.name, op: p.op, arg: p.raw });
      walk(p.arg);
    }
  };
  walk(parseTemplate(text));
  return out;
}

/** Compose interpolates string values (never keys) everywhere in the file. */
function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  }
  return value;
}

function strings(value: unknown): string[] {
  const out: string[] = [];
  mapStrings(value, (s) => {
    out.push(s);
    return s;
  });
  return out;
}

// ---------------------------------------------------------------------------------------
// .env (compose's dotenv subset: KEY=VALUE, # comments, optional quotes)
// ---------------------------------------------------------------------------------------
function parseDotenv(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m?.[1]) throw new Error(`.env line ${index + 1} is not KEY=VALUE: ${raw}`);
    const [, key, rawValue = ''] = m;
    const quoted = /^(['"])(.*)\1$/.exec(rawValue);
    const value = quoted ? (quoted[2] ?? '') : rawValue.replace(/\s+#.*$/, '').trim();
    if (vars.has(key)) throw new Error(`.env defines ${key} twice`);
    vars.set(key, value);
  });
  return vars;
}

// ---------------------------------------------------------------------------------------
// Dockerfile (the subset this repository uses)
// ---------------------------------------------------------------------------------------
interface Instruction {
  cmd: string;
  args: string;
}
interface Stage {
  image: string;
  name: string | null;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && !pending)) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(line);
    if (!m?.[1]) continue;
    const cmd = m[1].toUpperCase();
    const args = (m[2] ?? '').trim();
    if (cmd === 'FROM') {
      const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
      stages.push({ image: words[0] ?? '', name: words[1]?.toUpperCase() === 'AS' ? (words[2] ?? null) : null, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ cmd, args });
    }
  }
  return stages;
}

const all = (stage: Stage, cmd: string) => stage.instructions.filter((i) => i.cmd === cmd).map((i) => i.args);
const withoutFlags = (args: string) => args.replace(/^(?:--\S+\s+)*/, '');

function dockerfileEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of all(stage, 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const [key, ...value] = pair.split('=');
      if (key) env[key] = value.join('=').replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

/** COPY destinations of a stage, resolved against its WORKDIR. */
function copyTargets(stage: Stage): { from: string | null; src: string; dest: string }[] {
  let workdir = '/';
  const out: { from: string | null; src: string; dest: string }[] = [];
  for (const { cmd, args } of stage.instructions) {
    if (cmd === 'WORKDIR') workdir = path.posix.resolve(workdir, args);
    if (cmd !== 'COPY') continue;
    const from = /--from=(\S+)/.exec(args)?.[1] ?? null;
    const words = withoutFlags(args).split(/\s+/);
    const rawDest = words.at(-1) ?? '';
    const dest = path.posix.resolve(workdir, rawDest);
    // Docker copies a directory's contents to dest, and a file into dest when dest ends in
    // "/" (or when there are several sources). Files are told apart by their extension,
    // which holds for every COPY in this repository.
    for (const src of words.slice(0, -1)) {
      const isFile = path.posix.extname(src.replace(/\/$/, '')) !== '';
      const into = words.length > 2 || (rawDest.endsWith('/') && isFile);
      out.push({ from, src, dest: into ? path.posix.join(dest, path.posix.basename(src)) : dest });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// docker-compose.yml, normalised
// ---------------------------------------------------------------------------------------
type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => v !== null && typeof v === 'object' && !Array.isArray(v);
const dict = (v: unknown, what: string): Dict => {
  if (!isDict(v)) throw new Error(`${what} must be a mapping`);
  return v;
};

function envOf(service: Dict): Record<string, string> {
  const raw = service.environment ?? {};
  if (Array.isArray(raw)) {
    return Object.fromEntries(raw.map((entry) => String(entry)).map((e) => [e.split('=')[0] ?? '', e.split('=').slice(1).join('=')]));
  }
  return Object.fromEntries(Object.entries(dict(raw, 'environment')).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

interface Port {
  hostIp: string | null;
  published: string;
  target: number;
}
function portsOf(service: Dict): Port[] {
  return ((service.ports as unknown[] | undefined) ?? []).map((p) => {
    if (isDict(p)) return { hostIp: (p.host_ip as string | undefined) ?? null, published: String(p.published), target: Number(p.target) };
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.pop());
    const published = parts.pop() ?? '';
    return { hostIp: parts.length ? parts.join(':') : null, published, target };
  });
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}
function mountsOf(service: Dict): Mount[] {
  return ((service.volumes as unknown[] | undefined) ?? []).map((v) => {
    if (isDict(v)) return { source: String(v.source), target: String(v.target), readOnly: v.read_only === true };
    const [source = '', target = '', mode = ''] = String(v).split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}
const isNamedVolume = (m: Mount) => !/^[./~]/.test(m.source);

function healthcheckCommand(service: Dict): string {
  const test = dict(service.healthcheck, 'healthcheck').test;
  return Array.isArray(test) ? test.slice(1).join(' ') : String(test);
}

function imageParts(ref: string): { name: string; tag: string | null; digest: string | null } {
  const [nameTag = '', digest = null] = ref.split('@');
  const colon = nameTag.lastIndexOf(':');
  const tagged = colon > nameTag.lastIndexOf('/');
  return { name: tagged ? nameTag.slice(0, colon) : nameTag, tag: tagged ? nameTag.slice(colon + 1) : null, digest };
}
/** A full version tag (x.y.z…) or a digest: never `latest`, never a floating major/minor. */
const isPinned = (ref: string) => {
  const { tag, digest } = imageParts(ref);
  return digest !== null || (tag !== null && tag !== 'latest' && /^v?\d+\.\d+\.\d+/.test(tag));
};

// ---------------------------------------------------------------------------------------
// The files under test
// ---------------------------------------------------------------------------------------
const composeText = read('docker-compose.yml');
// merge: compose resolves YAML merge keys (`<<: *pulse-env`), as the yaml 1.1 option does.
const composeRaw = dict(parseYaml(composeText, { merge: true }), 'docker-compose.yml');
const dotenv = parseDotenv(read('.env.example'));
const exampleEnv: Env = Object.fromEntries(dotenv);
const stages = parseDockerfile(read('Dockerfile'));
const finalStage = stages.at(-1) as Stage;
const refs = strings(composeRaw).flatMap((s) => references(s));
const requiredVars = [...new Set(refs.filter((r) => r.op === ':?' || r.op === '?').map((r) => r.name))];

/** The model compose runs with these active profiles: a service with `profiles` only when one is active. */
function composeWith(env: Env, profiles: string[] = []): { services: Record<string, Dict>; volumes: Dict } {
  const doc = dict(mapStrings(composeRaw, (s) => interpolate(s, env)), 'compose');
  const services = Object.fromEntries(
    Object.entries(dict(doc.services, 'services'))
      .map(([k, v]) => [k, dict(v, k)] as const)
      .filter(([, v]) => v.profiles === undefined || (v.profiles as string[]).some((p) => profiles.includes(p))),
  );
  return { services, volumes: dict(doc.volumes ?? {}, 'volumes') };
}
const service = (c: { services: Record<string, Dict> }, name: string): Dict => {
  const s = c.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};

/** What the pulse container's process sees: the image's ENV, then compose's environment. */
function pulseEnv(env: Env): Record<string, string> {
  return { ...dockerfileEnv(finalStage), ...envOf(service(composeWith(env), 'pulse')) };
}

function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const placeholder = (value: string) => /CHANGE_ME|example\.(com|org|net)/.test(value);
/** Only the variables compose insists on, with .env.example's placeholders: defaults rule the rest. */
const requiredOnlyEnv: Env = Object.fromEntries(requiredVars.map((name) => [name, exampleEnv[name]]));

// ---------------------------------------------------------------------------------------

describe('compose interpolation (the subset compose implements)', () => {
  const env = { SET: 'v', EMPTY: '', OTHER: 'o' };
  it('substitutes ${VAR} and $VAR; unset is empty', () => {
    expect(interpolate('a ${SET} $SET-${UNSET}.', env)).toBe('a v v-.');
  });
  it(':- defaults on unset or empty, - only on unset', () => {
    expect(interpolate('${UNSET:-d}|${EMPTY:-d}|${SET:-d}', env)).toBe('d|d|v');
    expect(interpolate('${UNSET-d}|${EMPTY-d}|${SET-d}', env)).toBe('d||v');
  });
  it(':? refuses unset or empty, ? only unset, naming the variable and the message', () => {
    expect(interpolate('${SET:?boom}', env)).toBe('v');
    expect(() => interpolate('${EMPTY:?set it in .env}', env)).toThrow(/EMPTY.*set it in \.env/);
    expect(() => interpolate('${UNSET:?x}', env)).toThrow(InterpolationError);
    expect(interpolate('${EMPTY?x}', env)).toBe('');
    expect(() => interpolate('${UNSET?x}', env)).toThrow(/UNSET/);
  });
  it(':+ and + substitute the alternative when set', () => {
    expect(interpolate('${SET:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${UNSET+alt}', env)).toBe('alt||alt|');
  });
  it('$$ is a literal $, also before a brace', () => {
    expect(interpolate('cost $$5 and $${SET} and $$SET', env)).toBe('cost $5 and ${SET} and $SET');
  });
  it('defaults nest, and an unused default is not evaluated', () => {
    expect(interpolate('${UNSET:-${OTHER:-x}}', env)).toBe('o');
    expect(interpolate('${SET:-${UNSET:?never}}', env)).toBe('v');
    expect(references('${A:-${B:?m}} $C $$D').map((r) => `${r.name}${r.op}`)).toEqual(['A:-', 'B:?', 'C']);
  });
  it('rejects what compose rejects', () => {
    expect(() => interpolate('a $ b', env)).toThrow(/invalid interpolation/);
    expect(() => interpolate('${SET', env)).toThrow(/unterminated/);
    expect(() => interpolate('${1X}', env)).toThrow(/invalid variable name/);
  });
});

describe('.env.example ↔ docker-compose.yml', () => {
  it('defines exactly the variables the compose file uses', () => {
    const used = new Set(refs.map((r) => r.name));
    const defined = new Set(dotenv.keys());
    expect([...used].filter((v) => !defined.has(v)), 'used in compose, missing from .env.example').toEqual([]);
    expect([...defined].filter((v) => !used.has(v)), 'in .env.example, unused by compose').toEqual([]);
  });

  it('secrets are required (${VAR:?…}) and shipped as obvious placeholders; optional defaults match', () => {
    for (const name of new Set(refs.map((r) => r.name))) {
      const uses = refs.filter((r) => r.name === name);
      const required = uses.map((r) => r.op === ':?');
      expect(new Set(required).size, `${name} is required in one place and optional in another`).toBe(1);
      const value = dotenv.get(name) ?? '';
      if (required[0]) {
        expect(placeholder(value), `${name}: required, so .env.example should hold a CHANGE_ME placeholder`).toBe(true);
      } else {
        expect(placeholder(value), `${name}: a placeholder must be required, or compose starts with it`).toBe(false);
        for (const use of uses) {
          expect(use.op, `${name} must be \${${name}:-…} (empty counts as unset)`).toBe(':-');
          expect(use.arg, `${name}: compose default and .env.example value differ`).toBe(value);
        }
      }
    }
    for (const secret of [...dotenv.keys()].filter((k) => /PASSWORD|TOKEN|KEYS|SALT|SECRET_KEY/.test(k))) {
      expect(requiredVars, `${secret} must be required`).toContain(secret);
    }
  });

  it('compose refuses to start without any required variable, naming it', () => {
    expect(requiredVars.length).toBeGreaterThan(5);
    for (const name of requiredVars) {
      const env = { ...exampleEnv };
      delete env[name];
      expect(() => composeWith(env), name).toThrow(new RegExp(`\\b${name}\\b`));
      expect(() => composeWith({ ...exampleEnv, [name]: '' }), `${name} empty`).toThrow(InterpolationError);
    }
  });
});

describe('docker-compose.yml services', () => {
  // In a hook, not at collection time: a missing variable then fails these tests with
  // compose's message instead of failing to load the whole file.
  let compose: ReturnType<typeof composeWith>;
  let names: string[];
  beforeAll(() => {
    compose = composeWith(exampleEnv);
    names = Object.keys(compose.services);
  });

  it('runs influxdb, grafana and the app', () => {
    expect([...names].sort()).toEqual(['grafana', 'influxdb', 'pulse']);
  });

  it('pins every image to a full version (no missing tag, no latest)', () => {
    const everything = composeWith(exampleEnv, ['cluster']);
    for (const name of Object.keys(everything.services)) {
      const image = service(everything, name).image;
      expect(typeof image, `${name}: image`).toBe('string');
      expect(isPinned(image as string), `${name}: ${String(image)} is not pinned`).toBe(true);
    }
    const version = (JSON.parse(read('package.json')) as { version: string }).version;
    expect(service(compose, 'pulse').build, 'the app is built from this repository').toBe('.');
    expect(imageParts(service(compose, 'pulse').image as string).tag, 'app image tag = package.json version').toBe(version);
  });

  it('gives every service a healthcheck, a restart policy and healthy dependencies', () => {
    const everything = composeWith(exampleEnv, ['cluster']);
    const allNames = Object.keys(everything.services);
    for (const name of allNames) {
      const s = service(everything, name);
      expect(healthcheckCommand(s).length, `${name}: healthcheck`).toBeGreaterThan(10);
      expect(dict(s.healthcheck, name).disable, `${name}: healthcheck disabled`).not.toBe(true);
      expect(['always', 'unless-stopped'], `${name}: restart`).toContain(s.restart);
      for (const [dep, cond] of Object.entries(dict(s.depends_on ?? {}, `${name}.depends_on`))) {
        expect(allNames, `${name} depends on unknown ${dep}`).toContain(dep);
        // A service of no profile must not wait for one that only a profile starts.
        if (s.profiles === undefined) expect(names, `${name} → ${dep} (not started without the profile)`).toContain(dep);
        expect(dict(cond, dep).condition, `${name} → ${dep}`).toBe('service_healthy');
      }
    }
    expect(Object.keys(dict(service(compose, 'pulse').depends_on, 'pulse.depends_on'))).toContain('influxdb');
    expect(Object.keys(dict(service(compose, 'grafana').depends_on, 'grafana.depends_on'))).toContain('influxdb');
  });

  it('keeps state in named, declared volumes', () => {
    const declared = Object.keys(compose.volumes);
    const everything = composeWith(exampleEnv, ['cluster']);
    const used = Object.keys(everything.services).flatMap((n) => mountsOf(service(everything, n)).filter(isNamedVolume).map((m) => m.source));
    expect(used.filter((v) => !declared.includes(v)), 'used but not declared').toEqual([]);
    expect(declared.filter((v) => !used.includes(v)), 'declared but unused').toEqual([]);
    const dataMount = (name: string, target: string) =>
      mountsOf(service(compose, name)).find((m) => m.target === target && isNamedVolume(m));
    expect(dataMount('influxdb', '/var/lib/influxdb'), 'influxdb data').toBeDefined();
    expect(dataMount('grafana', '/var/lib/grafana'), 'grafana data').toBeDefined();
    expect(dataMount('pulse', dockerfileEnv(finalStage).PULSE_DATA_DIR ?? '?'), 'pulse data (PULSE_DATA_DIR)').toBeDefined();
  });

  it('publishes InfluxDB and (by default) Grafana on loopback only', () => {
    expect(portsOf(service(compose, 'influxdb')).map((p) => p.hostIp)).toEqual(['127.0.0.1']);
    expect(portsOf(service(compose, 'grafana')).map((p) => p.hostIp)).toEqual(['127.0.0.1']);
    expect(portsOf(composeWith(requiredOnlyEnv).services.grafana as Dict).map((p) => p.hostIp), 'default bind').toEqual(['127.0.0.1']);
  });

  it('provisions Grafana from grafana/ read-only, with the datasource contract and no anonymous access', () => {
    const grafana = service(compose, 'grafana');
    const mounts = mountsOf(grafana);
    for (const [source, target] of [
      ['./grafana/provisioning', '/etc/grafana/provisioning'],
      ['./grafana/dashboards', '/var/lib/grafana/dashboards'],
    ] as const) {
      expect(mounts, `${source} → ${target}`).toContainEqual({ source, target, readOnly: true });
      expect(existsSync(path.join(ROOT, source)), `${source} must exist in the repository`).toBe(true);
    }
    const env = envOf(grafana);
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBe(exampleEnv.GRAFANA_ADMIN_PASSWORD);
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['INFLUX_DB', 'INFLUX_READ_USER', 'INFLUX_READ_PASSWORD']));
  });

  it('gives Grafana every variable its provisioning files expand, and points them at the influxdb service', () => {
    const env = envOf(service(compose, 'grafana'));
    const dir = path.join(ROOT, 'grafana/provisioning');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f));
    for (const file of files) {
      const text = readFileSync(path.join(dir, file), 'utf8');
      // Grafana expands $VAR and ${VAR} in provisioning files ($$ escapes a literal $).
      const used = [...text.replace(/\$\$/g, '').matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)].map((m) => m[1] ?? '');
      expect(used.filter((v) => !(v in env)), `${file}: variables the grafana service does not set`).toEqual([]);
      const doc = parseYaml(text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, v: string) => env[v] ?? '')) as { datasources?: { type?: string; url?: string }[] } | null;
      for (const ds of doc?.datasources ?? []) {
        if (ds.type === 'influxdb') expect(ds.url, `${file}: InfluxDB datasource URL`).toBe('http://influxdb:8086');
      }
    }
  });
});

describe('the app inside compose', () => {
  function expectConsistent(label: string, env: Env): Config {
    const compose = composeWith(env);
    const influx = envOf(service(compose, 'influxdb'));
    const grafana = envOf(service(compose, 'grafana'));
    const pulse = service(compose, 'pulse');

    const problems = configProblems(pulseEnv(env));
    expect(problems, `${label}: loadConfig problems`).toEqual([]);
    const config = loadConfig(pulseEnv(env));

    expect(config.demo, label).toBe(false);
    expect(config.simulator.enabled, label).toBe(false);
    expect(config.generated, `${label}: nothing may be generated at start-up`).toEqual({ ingestKey: false, readToken: false, adminToken: false });
    expect(config.host, label).toBe('0.0.0.0');
    expect(config.store.kind, label).toBe('influx');
    if (config.store.kind !== 'influx') throw new Error('unreachable');

    // INFLUX_URL names the influxdb service and the port InfluxDB listens on in its container.
    const url = new URL(config.store.url);
    expect(url.hostname, `${label}: INFLUX_URL host = the influxdb service`).toBe('influxdb');
    expect(Object.keys(compose.services)).toContain(url.hostname);
    expect(portsOf(service(compose, 'influxdb')).map((p) => p.target), `${label}: INFLUX_URL port`).toContain(Number(url.port || 80));
    expect(config.store.url).toBe('http://influxdb:8086');

    // One database name, one writer, one reader across the three services.
    expect(config.store.db, `${label}: INFLUX_DB vs INFLUXDB_DB`).toBe(influx.INFLUXDB_DB);
    expect(grafana.INFLUX_DB, `${label}: Grafana's INFLUX_DB`).toBe(influx.INFLUXDB_DB);
    expect(config.store.user, `${label}: the app writes as INFLUXDB_USER`).toBe(influx.INFLUXDB_USER);
    expect(config.store.password, label).toBe(influx.INFLUXDB_USER_PASSWORD);
    expect(config.store.token, `${label}: 1.x takes user + password, not a token`).toBeUndefined();
    expect(grafana.INFLUX_READ_USER, `${label}: Grafana reads as INFLUXDB_READ_USER`).toBe(influx.INFLUXDB_READ_USER);
    expect(grafana.INFLUX_READ_PASSWORD, label).toBe(influx.INFLUXDB_READ_USER_PASSWORD);
    expect(influx.INFLUXDB_READ_USER, `${label}: reader and writer must differ`).not.toBe(influx.INFLUXDB_USER);
    expect(influx.INFLUXDB_HTTP_AUTH_ENABLED, `${label}: users are only created with auth on`).toBe('true');
    expect(influx.INFLUXDB_ADMIN_USER, `${label}: users are only created with an admin`).toBeTruthy();

    // PORT = the published container port = the healthcheck's port = the image's EXPOSE.
    expect(portsOf(pulse).map((p) => p.target), `${label}: published container port`).toEqual([config.port]);
    const probe = new URL(/https?:\/\/[^'"\s)]+/.exec(healthcheckCommand(pulse))?.[0] ?? 'http://missing');
    expect(Number(probe.port), `${label}: healthcheck port`).toBe(config.port);
    expect(['/readyz', '/healthz']).toContain(probe.pathname);
    expect(all(finalStage, 'EXPOSE').flatMap((a) => a.split(/\s+/)).map((p) => Number(p.split('/')[0])), 'EXPOSE').toEqual([config.port]);

    // The data dir is the mounted volume.
    expect(mountsOf(pulse).map((m) => m.target), `${label}: data dir mounted`).toContain(config.dataDir);

    // Empty optional robots are "not configured", not an error, for the notifier loader too.
    expect(loadNotifiers({ env: config.alerts.notifierEnv }), `${label}: notifiers`).toEqual([]);
    return config;
  }

  it('validates with .env.example as shipped', () => {
    const c = expectConsistent('.env.example', exampleEnv);
    expect(c.ingestKeys).toEqual([exampleEnv.PULSE_INGEST_KEYS]);
    expect(c.readToken).toBe(exampleEnv.PULSE_READ_TOKEN);
    expect(c.adminToken).toBe(exampleEnv.PULSE_ADMIN_TOKEN);
    expect(c.salt).toBe(exampleEnv.PULSE_SALT);
    expect(c.alerts.publicUrl).toBe(exampleEnv.PULSE_PUBLIC_URL);
  });

  it('stays consistent on compose defaults alone (only the required variables set)', () => {
    expectConsistent('defaults', requiredOnlyEnv);
  });

  it('a DingTalk robot set in .env reaches the notifier loader', () => {
    const env = { ...exampleEnv, DINGTALK_WEBHOOK: 'https://oapi.dingtalk.com/robot/send?access_token=t', DINGTALK_SECRET: 'SECabc' };
    const notifiers = loadNotifiers({ env: loadConfig(pulseEnv(env)).alerts.notifierEnv });
    expect(notifiers.map((n) => n.type)).toEqual(['dingtalk']);
  });

  it('fails when the app loses a setting it needs (the check can fail)', () => {
    const cases: [remove: string, problem: string][] = [
      ['PULSE_READ_TOKEN', 'PULSE_READ_TOKEN:'],
      ['PULSE_INGEST_KEYS', 'PULSE_INGEST_KEYS:'],
      ['INFLUX_URL', 'INFLUX_URL:'],
      ['INFLUX_DB', 'INFLUX_DB:'],
      ['INFLUX_PASSWORD', 'INFLUX_USER: INFLUX_USER and INFLUX_PASSWORD go together'],
    ];
    for (const [remove, problem] of cases) {
      const env = pulseEnv(exampleEnv);
      expect(env[remove], `${remove} should be set by compose`).toBeTruthy();
      delete env[remove];
      const problems = configProblems(env);
      expect(problems.some((p) => p.startsWith(problem)), `without ${remove}: ${problems.join('; ')}`).toBe(true);
    }
    // A wrong PULSE_STORE would silently fall back to DuckDB inside the container.
    const env = pulseEnv(exampleEnv);
    delete env.PULSE_STORE;
    expect(loadConfig(env).store.kind).toBe('duckdb');
  });
});

describe('the cluster profile (docker compose --profile cluster)', () => {
  const clusterEnv: Env = { ...exampleEnv, PULSE_CLUSTER_REDIS_URL: 'redis://redis:6379' };
  const cluster = composeWith(clusterEnv, ['cluster']);
  const nodes = ['pulse', 'pulse-2', 'pulse-3'];
  const nodeEnv = (name: string) => ({ ...dockerfileEnv(finalStage), ...envOf(service(cluster, name)) });

  it('adds Redis, two more app nodes and nginx; without the profile none of them runs', () => {
    expect(Object.keys(cluster.services).sort()).toEqual(['grafana', 'influxdb', 'lb', 'pulse', 'pulse-2', 'pulse-3', 'redis']);
    expect(Object.keys(composeWith(clusterEnv).services).sort()).toEqual(['grafana', 'influxdb', 'pulse']);
  });

  it('makes every node a member of one cluster on InfluxDB, each with its own id, data dir and reachable address', () => {
    const configs = nodes.map((n) => loadConfig(nodeEnv(n)));
    for (const [i, c] of configs.entries()) {
      expect(c.cluster?.redisUrl, nodes[i]).toBe('redis://redis:6379');
      expect(c.store.kind, nodes[i]).toBe('influx');
      expect(c.salt, `${nodes[i]}: one salt, so an id hashes alike on every node`).toBe(exampleEnv.PULSE_SALT);
    }
    // The node id defaults to the host name in a cluster: distinct, stable across re-creation.
    const hostnames = nodes.map((n) => service(cluster, n).hostname);
    expect(hostnames).toEqual(nodes);
    expect(new URL(configs[0]!.cluster!.redisUrl).hostname, 'Redis URL names the redis service').toBe('redis');
    const volumes = nodes.map((n) => mountsOf(service(cluster, n)).find((m) => m.target === configs[0]!.dataDir)?.source);
    expect(new Set(volumes).size, 'one data volume per node (journal, spool)').toBe(3);
    // The same settings on every node apart from the ones that must differ.
    const same = (n: string) => Object.fromEntries(Object.entries(envOf(service(cluster, n))).filter(([k]) => k !== 'PULSE_TRUST_PROXY'));
    expect(same('pulse-2')).toEqual(same('pulse'));
    expect(same('pulse-3')).toEqual(same('pulse'));
  });

  it('keeps nginx from starting while node 1 is not in the cluster (a forgotten PULSE_CLUSTER_REDIS_URL)', () => {
    const lb = service(cluster, 'lb');
    expect(Object.keys(dict(lb.depends_on, 'lb.depends_on')).sort()).toEqual(['pulse-2', 'pulse-3']);
    const probe = healthcheckCommand(service(cluster, 'pulse-2'));
    expect(probe).toContain('http://pulse:8080/readyz');
    expect(probe).toContain('.cluster');
    // Without the setting, node 1 is a single node: its /readyz has no cluster block.
    expect(loadConfig(pulseEnv(exampleEnv)).cluster).toBeNull();
  });

  it('nginx balances the three nodes with sticky sessions and WebSocket upgrades, on the published port', () => {
    const lb = service(cluster, 'lb');
    const mount = mountsOf(lb).find((m) => m.target === '/etc/nginx/conf.d/default.conf');
    expect(mount?.readOnly).toBe(true);
    const conf = read(mount!.source.replace(/^\.\//, ''));
    const servers = [...conf.matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(servers).toEqual(nodes.map((n) => `${n}:${loadConfig(nodeEnv(n)).port}`));
    expect(conf).toMatch(/^\s*ip_hash;/m);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    const listen = Number(/^\s*listen\s+(\d+);/m.exec(conf)?.[1]);
    expect(portsOf(lb).map((p) => p.target)).toEqual([listen]);
    expect(portsOf(lb).map((p) => p.published)).toEqual([exampleEnv.PULSE_LB_HOST_PORT]);
  });
});

describe('Dockerfile', () => {
  it('builds on pinned glibc (Debian) images, the same in every stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      expect(isPinned(stage.image), `${stage.image} is not pinned`).toBe(true);
      // @duckdb/node-api's prebuilt binding in the lockfile is the glibc one.
      expect(stage.image, 'no musl (alpine) base').not.toMatch(/alpine/);
    }
    expect(new Set(stages.map((s) => s.image)).size, 'build and runtime share the Node ABI').toBe(1);
  });

  it('runs as a non-root user with the data dir as a volume', () => {
    const env = dockerfileEnv(finalStage);
    expect(all(finalStage, 'USER').at(-1)).toBe('node');
    expect(env.NODE_ENV).toBe('production');
    expect(env.HOST).toBe('0.0.0.0');
    expect(all(finalStage, 'VOLUME')).toEqual([env.PULSE_DATA_DIR]);
    expect(all(finalStage, 'HEALTHCHECK').join(' ')).toMatch(/fetch\(.*\/(readyz|healthz)/);
  });

  it('starts the built server directly, with the wall and the default rules where server.ts looks', () => {
    const cmd = JSON.parse(all(finalStage, 'CMD').at(-1) ?? '[]') as string[];
    expect(cmd[0]).toBe('node');
    const entry = cmd[1] ?? '';
    expect(existsSync(path.join(ROOT, entry)), `${entry} exists after npm run build`).toBe(true);
    // server.ts only starts itself when it is the entry script, and finds its assets two
    // directories above its own file (REPO_ROOT): keep the image layout in step with that.
    const server = read('backend/src/server.ts');
    expect(server).toMatch(/import\.meta\.url === pathToFileURL\(path\.resolve\(process\.argv\[1\]\)\)\.href/);
    expect(server).toMatch(/const REPO_ROOT = path\.resolve\(path\.dirname\(fileURLToPath\(import\.meta\.url\)\), '\.\.\/\.\.'\)/);

    const workdir = all(finalStage, 'WORKDIR').at(-1) ?? '/';
    const repoRoot = path.posix.resolve(path.posix.dirname(path.posix.resolve(workdir, entry)), '../..');
    const copied = copyTargets(finalStage).map((c) => c.dest);
    for (const needed of ['frontend/dist', 'alerts/rules', 'alerts/calendar', 'alerts/dist', 'alerts/package.json', 'contracts/dist', 'contracts/package.json', 'backend/dist', 'backend/package.json', 'node_modules']) {
      expect(copied, `${needed} in the image`).toContain(path.posix.join(repoRoot, needed));
    }
    expect(path.posix.join(repoRoot, entry)).toBe(path.posix.resolve(workdir, entry));
  });

  it('keeps host modules, data and secrets out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const must of ['**/node_modules', '**/dist', '.env', 'data', '.git']) expect(ignored, must).toContain(must);
    const sources = copyTargets(stages[0] as Stage).filter((c) => c.from === null).map((c) => c.src.replace(/\/$/, ''));
    for (const src of sources) expect(ignored, `${src} is copied but ignored`).not.toContain(src);
  });

  it('runs the app on a platform the lockfile has a DuckDB binding for', () => {
    const platform = String(service(composeWith(exampleEnv), 'pulse').platform ?? '');
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, unknown> };
    const arch = (p: string) => ({ 'linux/amd64': 'linux-x64', 'linux/arm64': 'linux-arm64' })[p];
    const wanted = platform ? [arch(platform)] : ['linux-x64', 'linux-arm64'];
    for (const a of wanted) {
      expect(a, `unknown platform ${platform}`).toBeDefined();
      expect(Object.keys(lock.packages), `lockfile has @duckdb/node-bindings-${a}`).toContain(`node_modules/@duckdb/node-bindings-${a}`);
    }
  });
});
