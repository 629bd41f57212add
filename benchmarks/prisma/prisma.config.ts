import { defineConfig } from 'prisma/config'

// Only `prisma generate` runs here (the harness never creates or migrates a table), so no
// datasource URL: the client connects through the PrismaPg adapter (tree_query.mjs).
export default defineConfig({
  schema: 'prisma/schema.prisma',
})
