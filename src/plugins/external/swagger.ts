import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import { openApiOptions } from '../../http/openapi.js'

export interface SwaggerPluginOptions {
  /**
   * Version in the OpenAPI document.
   * @defaultValue '0.1.0'
   */
  version?: string
}

/** The OpenAPI 3.1 document at /docs/json and Swagger UI at /docs; routes that need a credential name it in their schema's `security`. */
export default fp<SwaggerPluginOptions>(async (app, options) => {
  await app.register(fastifySwagger, openApiOptions({
    version: options.version ?? '0.1.0',
    apiKeys: app.config.apiKeys !== undefined,
    metricsToken: app.config.metricsToken !== undefined
  }))
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
}, { name: 'swagger', dependencies: ['config'] })
