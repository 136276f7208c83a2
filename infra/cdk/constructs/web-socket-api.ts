import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CLIENT_ACTIONS } from '../../../schemas/web-socket.ts';

export interface WebSocketChatApiProps {
  producer: IFunction;
  authorizer: IFunction;
  stageName: string;
  throttling: { rateLimit: number; burstLimit: number };
}

/**
 * The web chat's WebSocket API. `$connect` runs the Cognito JWT authorizer on `?token=`; every message
 * route (picked by `action`) and `$default` go to the web producer, whose answer is sent back as the
 * route response (the `ack` / `error` frame).
 */
export class WebSocketChatApi extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;

  constructor(scope: Construct, id: string, props: WebSocketChatApiProps) {
    super(scope, id);
    // Not 'Default': CDK drops that construct id from logical ids, which would collide with the route's.
    const integration = (name: string) =>
      new WebSocketLambdaIntegration(`${name}Integration`, props.producer);
    this.api = new WebSocketApi(this, 'Api', {
      routeSelectionExpression: '$request.body.action',
      connectRouteOptions: {
        integration: integration('Connect'),
        authorizer: new WebSocketLambdaAuthorizer('JwtAuthorizer', props.authorizer, {
          identitySource: ['route.request.querystring.token'],
        }),
      },
      disconnectRouteOptions: { integration: integration('Disconnect') },
      defaultRouteOptions: { integration: integration('Default'), returnResponse: true },
    });
    for (const action of CLIENT_ACTIONS) {
      this.api.addRoute(action, { integration: integration(`Route-${action}`), returnResponse: true });
    }
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName,
      autoDeploy: true,
      throttle: props.throttling,
    });
  }
}
