package rpc

import (
	"context"
	"fmt"
)

// SubscribeParams are the params of rpc.subscribe and rpc.unsubscribe.
type SubscribeParams struct {
	Topics []string `json:"topics" doc:"The topics to subscribe to, or to leave."`
}

// SubscribeResult is their result.
type SubscribeResult struct {
	Topics []string `json:"topics" doc:"The client's subscriptions now."`
}

// RegisterSubscriptions registers rpc.subscribe and rpc.unsubscribe, with
// which a WebSocket client manages its own subscriptions. allow decides
// whether c may subscribe to a topic (nil: to any); its error goes back to
// the client. Services that tie a subscription to a call of their own
// ("watch this run") call Conn.Subscribe from that method instead.
func RegisterSubscriptions(s *Server, allow func(ctx context.Context, c *Conn, topic string) error) error {
	err := register(s, "rpc.subscribe", "Subscribes this WebSocket client to topics; the server then sends it the notifications published to them.",
		func(ctx context.Context, c *Conn, p SubscribeParams) (SubscribeResult, error) {
			if c == nil {
				return SubscribeResult{}, errNoConn()
			}
			for i, t := range p.Topics {
				if !validTopic(t) {
					return SubscribeResult{}, FieldError(fmt.Sprintf("topics[%d]", i), "a topic must have 1 to %d bytes", maxTopicLen)
				}
				if allow != nil {
					if err := allow(ctx, c, t); err != nil {
						return SubscribeResult{}, err
					}
				}
				if err := c.Subscribe(t); err != nil {
					return SubscribeResult{}, err
				}
			}
			return SubscribeResult{Topics: c.Topics()}, nil
		}, true)
	if err != nil {
		return err
	}
	return register(s, "rpc.unsubscribe", "Ends this WebSocket client's subscriptions to topics.",
		func(ctx context.Context, c *Conn, p SubscribeParams) (SubscribeResult, error) {
			if c == nil {
				return SubscribeResult{}, errNoConn()
			}
			for _, t := range p.Topics {
				c.Unsubscribe(t)
			}
			return SubscribeResult{Topics: c.Topics()}, nil
		}, true)
}
