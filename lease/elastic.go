package lease

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/fleetform/fleetform/elastic"
)

// ElasticStore is a Store over fleetform's Elasticsearch client.
type ElasticStore struct{ Client *elastic.Client }

// Get reads the document; a missing document (or index) is found=false.
func (s ElasticStore) Get(ctx context.Context, index, id string) (Doc, bool, error) {
	d, found, err := s.Client.GetDoc(ctx, index, id)
	if err != nil || !found {
		return Doc{}, false, err
	}
	return Doc{SeqNo: d.SeqNo, PrimaryTerm: d.PrimaryTerm, Source: d.Source}, true, nil
}

// Put writes the document: create-only without a version, conditional on
// if_seq_no/if_primary_term with one. Refresh is not needed: GET is realtime.
func (s ElasticStore) Put(ctx context.Context, index, id string, src json.RawMessage, v *Version) (Version, error) {
	opts := elastic.IndexOptions{OpType: "create"}
	if v != nil {
		opts = elastic.IndexOptions{IfSeqNo: &v.SeqNo, IfPrimaryTerm: &v.PrimaryTerm}
	}
	res, err := s.Client.IndexDoc(ctx, index, id, src, opts)
	if elastic.IsConflict(err) {
		return Version{}, fmt.Errorf("%w: %w", ErrConflict, err)
	}
	if err != nil {
		return Version{}, err
	}
	return Version{SeqNo: res.SeqNo, PrimaryTerm: res.PrimaryTerm}, nil
}
