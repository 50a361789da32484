// Package vpclinkstore keeps API Gateway's VPC link records in the state store
// (apimodel.BucketVpcLinks): v1 links (REST, apigateway) and v2 links (apigatewayv2) share
// one id space per account. Both control planes create, list and load records here, and
// move them through the lifecycle steps they share: a PENDING link takes the status its
// verdict gives, a DELETING one is removed a short delay after it entered that status.
package vpclinkstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/store"
)

// Store is the part of the state store the records need; *store.Store satisfies it.
type Store interface {
	Get(ctx context.Context, bucket, key string) (store.Entry, error)
	Create(ctx context.Context, bucket, key string, value []byte) (uint64, error)
	Delete(ctx context.Context, bucket, key string, rev uint64) error
	List(ctx context.Context, bucket, prefix string) ([]store.Entry, error)
	Modify(ctx context.Context, bucket, key string, fn func(cur []byte) ([]byte, error)) (uint64, error)
}

var _ Store = (*store.Store)(nil)

// IDLen is the length of a VPC link id.
const IDLen = 6

// ErrNotFound: the link does not exist (any more).
var ErrNotFound = errors.New("vpclinkstore: vpc link not found")

// Create stores rec (of rec.Account) under a fresh id, which setID writes into rec before
// each attempt; an id already taken is retried a few times.
func Create(ctx context.Context, st Store, rec *apimodel.VpcLinkRecord, setID func(id string)) error {
	for attempt := 0; ; attempt++ {
		id := awsproto.NewID(IDLen)
		setID(id)
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		_, err = st.Create(ctx, apimodel.BucketVpcLinks, apimodel.VpcLinkKey(rec.Account, id), b)
		if errors.Is(err, store.ErrExists) && attempt < 5 {
			continue
		}
		return err
	}
}

// List returns account's links (v1 and v2) as stored.
func List(ctx context.Context, st Store, account string) ([]*apimodel.VpcLinkRecord, error) {
	entries, err := st.List(ctx, apimodel.BucketVpcLinks, account+".")
	if err != nil {
		return nil, err
	}
	out := make([]*apimodel.VpcLinkRecord, 0, len(entries))
	for _, e := range entries {
		var rec apimodel.VpcLinkRecord
		if err := json.Unmarshal(e.Value, &rec); err != nil {
			return nil, fmt.Errorf("decode vpc link %s: %w", e.Key, err)
		}
		out = append(out, &rec)
	}
	return out, nil
}

// Load returns account's link id as stored, or nil when there is none.
func Load(ctx context.Context, st Store, account, id string) (*apimodel.VpcLinkRecord, error) {
	e, err := st.Get(ctx, apimodel.BucketVpcLinks, apimodel.VpcLinkKey(account, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rec apimodel.VpcLinkRecord
	if err := json.Unmarshal(e.Value, &rec); err != nil {
		return nil, fmt.Errorf("decode vpc link %s: %w", e.Key, err)
	}
	return &rec, nil
}

// Settle advances rec's lifecycle at now and persists the change: a PENDING link takes
// the status verdict gives (none, or PENDING, leaves it pending); a DELETING link that
// entered that status deleteDelay ago or earlier is removed. It returns the record as it
// is now, or nil when the link is gone.
func Settle(ctx context.Context, st Store, rec *apimodel.VpcLinkRecord, now apimodel.Epoch, deleteDelay time.Duration,
	verdict func() (status, message string, err error)) (*apimodel.VpcLinkRecord, error) {
	key := apimodel.VpcLinkKey(rec.Account, rec.LinkID())
	switch rec.Status() {
	case apimodel.VpcLinkPending:
		status, msg, err := verdict()
		if err != nil {
			return nil, err
		}
		if status == apimodel.VpcLinkPending || status == "" {
			return rec, nil
		}
		out, err := modify(ctx, st, key, func(doc *apimodel.VpcLinkRecord) {
			if doc.Status() == apimodel.VpcLinkPending {
				doc.SetStatus(status, msg, now)
			}
		})
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return out, err
	case apimodel.VpcLinkDeleting:
		if now.Time().Sub(rec.StatusDate.Time()) < deleteDelay {
			return rec, nil
		}
		return nil, st.Delete(ctx, apimodel.BucketVpcLinks, key, 0)
	}
	return rec, nil
}

// MarkDeleting moves account's link id to DELETING at now (Settle removes it later).
// It returns ErrNotFound when the link is gone.
func MarkDeleting(ctx context.Context, st Store, account, id string, now apimodel.Epoch) error {
	_, err := modify(ctx, st, apimodel.VpcLinkKey(account, id), func(doc *apimodel.VpcLinkRecord) {
		if doc.Status() != apimodel.VpcLinkDeleting {
			doc.SetStatus(apimodel.VpcLinkDeleting, "", now)
		}
	})
	return err
}

// modify applies fn to the stored record at key and returns the result; ErrNotFound
// when there is none.
func modify(ctx context.Context, st Store, key string, fn func(*apimodel.VpcLinkRecord)) (*apimodel.VpcLinkRecord, error) {
	var out *apimodel.VpcLinkRecord
	_, err := st.Modify(ctx, apimodel.BucketVpcLinks, key, func(cur []byte) ([]byte, error) {
		out = nil
		if cur == nil {
			return nil, ErrNotFound
		}
		var doc apimodel.VpcLinkRecord
		if err := json.Unmarshal(cur, &doc); err != nil {
			return nil, err
		}
		fn(&doc)
		out = &doc
		return json.Marshal(&doc)
	})
	return out, err
}
