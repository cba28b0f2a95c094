import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { processorListSchema } from '../../schemas/processor.js'
import { problemSchema } from '../../schemas/problem.js'

export const processorRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/processors', {
    schema: {
      operationId: 'listProcessors',
      tags: ['processors'],
      summary: 'List the processors that pipeline steps can use',
      description: 'Built-in processors and the plug-ins of PARASCAN_PROCESSORS_DIR that loaded at start, with the JSON Schema of their params.',
      response: { 200: processorListSchema, 401: problemSchema, 429: problemSchema }
    }
  }, async () => ({ items: await app.scans.processors() }))
}
