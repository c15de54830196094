import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { OPERATION } from '../openapi/operation.js';
import { ACCESS_RULE } from './access.decorators.js';

const PATH_METADATA = 'path';
const METHOD_METADATA = 'method';

/**
 * Refuse to start when a route declares no access rule (closed-by-default must never be an accident)
 * or no @Operation (every route is in the OpenAPI document).
 */
@Injectable()
export class RouteAccessCheck implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    const missing: string[] = [];
    const undocumented: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || !wrapper.metatype) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function') continue;
        const isRoute = Reflect.hasMetadata(PATH_METADATA, handler) && Reflect.hasMetadata(METHOD_METADATA, handler);
        if (!isRoute) continue;
        const rule = this.reflector.getAllAndOverride(ACCESS_RULE, [handler, wrapper.metatype]);
        if (!rule) missing.push(`${wrapper.name}.${name}`);
        if (!Reflect.hasMetadata(OPERATION, handler)) undocumented.push(`${wrapper.name}.${name}`);
      }
    }
    if (missing.length) throw new Error(`Routes without an access rule (add @Public, @Authenticated or @RequiresAction): ${missing.join(', ')}`);
    if (undocumented.length) throw new Error(`Routes without an @Operation (the OpenAPI document needs one): ${undocumented.join(', ')}`);
  }
}
