package kibana

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// settingsCRUD is the list, get, create, update and delete of one Fleet
// settings kind whose routes are path and path/{id} (proxies, agent
// download sources, Fleet Server hosts): the list answers {items, total} in one page, get,
// create and update answer {item}. The Client's exported methods of each
// kind call it and document the kind's own rules.
type settingsCRUD[T any] struct {
	path string // e.g. "/api/fleet/proxies"
}

func (k settingsCRUD[T]) list(ctx context.Context, c *Client) ([]T, error) {
	return listAll[T](ctx, c, k.path)
}

func (k settingsCRUD[T]) get(ctx context.Context, c *Client, id string) (T, error) {
	return itemCall[T](ctx, c, request{method: http.MethodGet, path: k.path + "/" + url.PathEscape(id)})
}

func (k settingsCRUD[T]) create(ctx context.Context, c *Client, body map[string]any) (T, error) {
	return itemCall[T](ctx, c, request{method: http.MethodPost, path: k.path, body: body})
}

func (k settingsCRUD[T]) update(ctx context.Context, c *Client, id string, body map[string]any) (T, error) {
	return itemCall[T](ctx, c, request{method: http.MethodPut, path: k.path + "/" + url.PathEscape(id), body: body})
}

func (k settingsCRUD[T]) delete(ctx context.Context, c *Client, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: k.path + "/" + url.PathEscape(id)}, nil)
}

// listAll reads a {items, total} list Kibana answers in one page.
func listAll[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	var resp itemsResponse[T]
	if err := c.do(ctx, request{method: http.MethodGet, path: path}, &resp); err != nil {
		return nil, err
	}
	if resp.Total > len(resp.Items) {
		return nil, fmt.Errorf("GET %s: got %d of %d items; Kibana lists at most 10000", path, len(resp.Items), resp.Total)
	}
	return resp.Items, nil
}

// itemCall sends r and returns the item of Kibana's {item} answer.
func itemCall[T any](ctx context.Context, c *Client, r request) (T, error) {
	var resp itemResponse[T]
	err := c.do(ctx, r, &resp)
	return resp.Item, err
}
