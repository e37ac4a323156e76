package elastic

import (
	"context"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// ClusterSettings are the persistent and transient cluster settings in flat
// form ("cluster.remote.main.mode": "proxy").
type ClusterSettings struct {
	Persistent map[string]any `json:"persistent"`
	Transient  map[string]any `json:"transient"`
}

// GetClusterSettings returns GET /_cluster/settings?flat_settings=true.
func (c *Client) GetClusterSettings(ctx context.Context) (ClusterSettings, error) {
	var out ClusterSettings
	err := c.doJSON(ctx, call{method: http.MethodGet, path: "/_cluster/settings",
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.ClusterGetSettingsRequest{FlatSettings: ptr(true)}.Do(ctx, c.es)
		}}, &out)
	return out, err
}

// PutClusterSettings updates settings; keys may be flat
// ("cluster.remote.main.proxy_address") and a nil value removes a setting.
func (c *Client) PutClusterSettings(ctx context.Context, persistent, transient map[string]any) error {
	body := map[string]any{}
	if persistent != nil {
		body["persistent"] = persistent
	}
	if transient != nil {
		body["transient"] = transient
	}
	var out struct {
		Acknowledged bool `json:"acknowledged"`
	}
	k := call{method: http.MethodPut, path: "/_cluster/settings",
		send: func(ctx context.Context) (*esapi.Response, error) {
			b, err := jsonBody(body)
			if err != nil {
				return nil, err
			}
			return esapi.ClusterPutSettingsRequest{Body: b, FlatSettings: ptr(true)}.Do(ctx, c.es)
		}}
	if err := c.doJSON(ctx, k, &out); err != nil {
		return err
	}
	if !out.Acknowledged {
		return &Error{Method: k.method, Path: k.path, Status: http.StatusOK, Reason: "settings update not acknowledged"}
	}
	return nil
}

// RemoteCluster is one entry of GET /_remote/info.
type RemoteCluster struct {
	Mode                     string   `json:"mode"` // sniff | proxy
	Connected                bool     `json:"connected"`
	SkipUnavailable          bool     `json:"skip_unavailable"`
	InitialConnectTimeout    string   `json:"initial_connect_timeout"`
	Seeds                    []string `json:"seeds,omitempty"`
	NumNodesConnected        int      `json:"num_nodes_connected,omitempty"`
	MaxConnectionsPerCluster int      `json:"max_connections_per_cluster,omitempty"`
	ProxyAddress             string   `json:"proxy_address,omitempty"`
	ServerName               string   `json:"server_name,omitempty"`
	NumProxySocketsConnected int      `json:"num_proxy_sockets_connected,omitempty"`
	MaxProxySocketConnection int      `json:"max_proxy_socket_connections,omitempty"`
}

// RemoteInfo returns the remote clusters this cluster knows, by alias.
func (c *Client) RemoteInfo(ctx context.Context) (map[string]RemoteCluster, error) {
	out := map[string]RemoteCluster{}
	err := c.doJSON(ctx, call{method: http.MethodGet, path: "/_remote/info",
		send: func(ctx context.Context) (*esapi.Response, error) {
			return esapi.ClusterRemoteInfoRequest{}.Do(ctx, c.es)
		}}, &out)
	return out, err
}
