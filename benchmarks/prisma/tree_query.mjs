// The spec's tree query through Prisma Client 7 and @prisma/adapter-pg, on SkillTree's own
// database, timed here in Node per request. benchmarks/bench_prisma.py starts this process (after
// `npm ci` and `prisma generate` in its cache directory) and drives it with one JSON object a line
// on stdin; every answer is one JSON line on stdout (an error: {"error": "..."}).
//
//   {"cmd": "connect", "connection": {host, port, user, password, database}}
//       -> {"versions": {...}}
//   {"cmd": "check"}   every model read once (findFirst): each mapped column exists and decodes
//       -> {"models": {"User": true|false (a row was found), ...}}
//   {"cmd": "info", "slug": s, "userId": u}  one read of each variant, and what it returned
//       -> {"variants": {name: {skills, withProgress, dependencies, dependents, treeProgress,
//                               bytes, statements, first, last}}}
//   {"cmd": "run", "variant": v, "slug": s, "userId": u, "runs": n, "warmup": w}
//       -> {"samples": [ms, ...]}   (n timed calls after w untimed ones)
//   {"cmd": "quit"}
//
// Variants: "spec" is the spec's findUnique (docs: "Efficient Skill Tree Loading") with the
// skills' dependencies and dependents, which the spec's schema holds in String[] columns and ours
// in an edge table, included as relations; "scalars" is the spec's text as written (the edges
// left out: a lower bound of Prisma's cost); "json" is "spec" followed by JSON.stringify of the
// result, what an API would do before sending it; "join" is "spec" in one statement
// (`relationLoadStrategy: 'join'`, the relationJoins preview: LATERAL joins and JSON built by
// PostgreSQL). The spec's query names no strategy, which is "query" without the preview: the
// others name it, as the preview would otherwise make "join" the default.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { PrismaPg } from '@prisma/adapter-pg'

const require = createRequire(import.meta.url)
const { PrismaClient } = require('./generated/prisma-client/index.js')

const MODELS = [
  'user', 'userProfile', 'skillCategory', 'skillTree', 'skillTreePrerequisite', 'skill',
  'skillDependency', 'userSkillTreeProgress', 'userSkillProgress', 'achievement',
  'userAchievement', 'userSession',
]

function treeQuery(prisma, slug, userId, edges, relationLoadStrategy = 'query') {
  const skillInclude = { userProgress: { where: { userId } } }
  if (edges) {
    skillInclude.dependencies = { select: { dependsOnId: true } }
    skillInclude.dependents = { select: { skillId: true } }
  }
  return prisma.skillTree.findUnique({
    relationLoadStrategy,
    where: { slug },
    include: {
      skills: {
        where: { isActive: true },
        include: skillInclude,
        orderBy: [{ positionY: 'asc' }, { positionX: 'asc' }],
      },
      userProgress: { where: { userId } },
    },
  })
}

const VARIANTS = {
  spec: (prisma, slug, userId) => treeQuery(prisma, slug, userId, true),
  scalars: (prisma, slug, userId) => treeQuery(prisma, slug, userId, false),
  json: async (prisma, slug, userId) => JSON.stringify(await treeQuery(prisma, slug, userId, true)),
  join: (prisma, slug, userId) => treeQuery(prisma, slug, userId, true, 'join'),
}

// The version npm ci installed (some packages export no ./package.json).
const installed = (name) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url))).version

let prisma = null
let logged = null // the client that logs its statements (for "info")

function client(connection, log) {
  const adapter = new PrismaPg(connection)
  return new PrismaClient(log ? { adapter, log: [{ emit: 'event', level: 'query' }] } : { adapter })
}

async function handle(msg) {
  switch (msg.cmd) {
    case 'connect': {
      prisma = client(msg.connection, false)
      logged = client(msg.connection, true)
      await prisma.$connect()
      const pinned = JSON.parse(readFileSync(new URL('./package.json', import.meta.url))).dependencies
      const versions = { node: process.version, pinned, installed: {} }
      for (const name of Object.keys(pinned)) versions.installed[name] = installed(name)
      return { versions }
    }
    case 'check': {
      const models = {}
      for (const model of MODELS) models[model] = (await prisma[model].findFirst()) !== null
      return { models }
    }
    case 'info': {
      const variants = {}
      for (const name of ['spec', 'scalars', 'join']) {
        const statements = []
        const listener = (event) => statements.push(event.query)
        logged.$on('query', listener)
        const tree = await VARIANTS[name](logged, msg.slug, msg.userId)
        if (tree === null) throw new Error(`no tree with slug ${msg.slug}`)
        const skills = tree.skills
        variants[name] = {
          skills: skills.length,
          withProgress: skills.filter((s) => s.userProgress.length > 0).length,
          dependencies: skills.reduce((n, s) => n + (s.dependencies?.length ?? 0), 0),
          dependents: skills.reduce((n, s) => n + (s.dependents?.length ?? 0), 0),
          treeProgress: tree.userProgress.length,
          bytes: Buffer.byteLength(JSON.stringify(tree)),
          statements: statements.length,
          first: skills[0]?.id ?? null,
          last: skills.at(-1)?.id ?? null,
        }
        if (process.env.BENCH_LOG_SQL === '1') process.stderr.write(statements.join('\n') + '\n')
      }
      return { variants }
    }
    case 'run': {
      const call = VARIANTS[msg.variant]
      if (!call) throw new Error(`unknown variant ${msg.variant}`)
      for (let i = 0; i < (msg.warmup ?? 0); i++) await call(prisma, msg.slug, msg.userId)
      const samples = []
      for (let i = 0; i < msg.runs; i++) {
        const start = process.hrtime.bigint()
        await call(prisma, msg.slug, msg.userId)
        samples.push(Number(process.hrtime.bigint() - start) / 1e6)
      }
      return { samples }
    }
    case 'quit':
      for (const c of [prisma, logged]) if (c) await c.$disconnect()
      return {}
    default:
      throw new Error(`unknown command ${msg.cmd}`)
  }
}

const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  const msg = JSON.parse(line)
  let answer
  try {
    answer = await handle(msg)
  } catch (error) {
    answer = { error: String(error?.stack ?? error) }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
  if (msg.cmd === 'quit') process.exit(0)
}
