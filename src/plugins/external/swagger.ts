import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'

const API_DESCRIPTION = `Parallel scans as a service. Submit a scan (a source of records plus a pipeline of CEL filters, maps and
processors, or an aggregate), poll its status, and page through its results while it runs. Every error is
application/problem+json with a stable \`code\`; validation errors list each bad field in \`errors\`.`

export interface SwaggerPluginOptions {
  /** Version in the OpenAPI document. Default: '0.1.0'. */
  version?: string
}

/** The OpenAPI 3.1 document at /docs/json and Swagger UI at /docs; routes that need a credential name it in their schema's `security`. */
export default fp<SwaggerPluginOptions>(async (app, options) => {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'parascan', version: options.version ?? '0.1.0', description: API_DESCRIPTION },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key of PARASCAN_API_KEYS; it names the tenant.' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN.' }
        }
      },
      tags: [
        { name: 'scans', description: 'Submit scans, follow them and read their results.' },
        { name: 'operations', description: 'Health, readiness and Prometheus metrics.' }
      ]
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
}, { name: 'swagger' })
