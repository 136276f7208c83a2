import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpRoute,
  HttpStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface ManagementRoute {
  method: HttpMethod;
  path: string;
  handler: IFunction;
}

export interface ChannelHttpApiProps {
  userPool: IUserPool;
  client: IUserPoolClient;
  /** Signed-in routes (the management REST API). */
  routes: ManagementRoute[];
  throttling: { rateLimit: number; burstLimit: number };
}

/**
 * The HTTP API: the management REST API behind the Cognito JWT authorizer (the default for every route),
 * throttled on its one stage. The Telegram, Discord and Slack webhooks join it as unauthenticated routes
 * (`addWebhook`), since those platforms authenticate by signature, which their producers verify.
 */
export class ChannelHttpApi extends Construct {
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props: ChannelHttpApiProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      createDefaultStage: false,
      defaultAuthorizer: new HttpUserPoolAuthorizer('CognitoJwt', props.userPool, {
        userPoolClients: [props.client],
      }),
      corsPreflight: {
        // Any origin: the API authenticates by bearer token, never by cookie, so there is nothing for
        // another site to ride on, and the chat can be embedded in any page.
        allowOrigins: ['*'],
        allowMethods: [
          CorsHttpMethod.GET,
          CorsHttpMethod.PUT,
          CorsHttpMethod.POST,
          CorsHttpMethod.PATCH,
          CorsHttpMethod.DELETE,
        ],
        // If-Match and ETag: a job's version, for changes that must not overwrite someone else's.
        allowHeaders: ['authorization', 'content-type', 'if-match'],
        exposeHeaders: ['etag'],
      },
    });
    new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttling,
    });
    for (const route of props.routes) {
      this.api.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: new HttpLambdaIntegration(`${route.method}${route.path}`, route.handler),
      });
    }
  }

  /**
   * A platform webhook (`POST /webhooks/<channel>`): no JWT; its producer verifies the signature. The
   * stage's throttling applies to it like to every route.
   */
  addWebhook(channel: string, handler: IFunction): HttpRoute {
    const [route] = this.api.addRoutes({
      path: `/webhooks/${channel}`,
      methods: [HttpMethod.POST],
      authorizer: new HttpNoneAuthorizer(),
      integration: new HttpLambdaIntegration(`Webhook-${channel}`, handler),
    });
    return route!;
  }
}
