package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	sigsjson "sigs.k8s.io/json"
)

// listPage is one page of a LIST, read as it streams in.
type listPage struct {
	items           []*unstructured.Unstructured
	resourceVersion string
	continueToken   string
}

// listStream reads one page of gvr's LIST and decodes its items one at a
// time as the response arrives, dropping each item's managedFields at
// once. client-go's dynamic List reads the whole body first, then copies
// every item's JSON, then decodes them all: three forms of the page live
// at once, with the managedFields (often the larger half of an object)
// in each. Here only the decoded items stay.
func listStream(ctx context.Context, raw rest.Interface, gvr schema.GroupVersionResource, opts metav1.ListOptions, keep keepFunc) (*listPage, error) {
	req := raw.Get().AbsPath(resourcePath(gvr)...).
		Param("labelSelector", opts.LabelSelector).
		Param("limit", strconv.FormatInt(opts.Limit, 10)).
		SetHeader("Accept", "application/json")
	if opts.Continue != "" {
		req = req.Param("continue", opts.Continue)
	}
	body, err := req.Stream(ctx)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	page, err := decodeList(body, keep)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return page, nil
}

func resourcePath(gvr schema.GroupVersionResource) []string {
	if gvr.Group == "" {
		return []string{"api", gvr.Version, gvr.Resource}
	}
	return []string{"apis", gvr.Group, gvr.Version, gvr.Resource}
}

// keepFunc returns what to keep of a decoded item: the item itself, or
// nothing (it has what it needs of it). A nil keepFunc keeps every item.
type keepFunc func(*unstructured.Unstructured) *unstructured.Unstructured

// decodeList reads a JSON list ({"kind": "XList", "apiVersion": ...,
// "metadata": {...}, "items": [...]}) item by item, passing each through
// keep. Items lacking apiVersion and kind get the list's, so that their
// keys match.
func decodeList(r io.Reader, keep keepFunc) (*listPage, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	page := &listPage{}
	var apiVersion, listKind string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch tok {
		case "apiVersion":
			err = dec.Decode(&apiVersion)
		case "kind":
			err = dec.Decode(&listKind)
		case "metadata":
			var m metav1.ListMeta
			err = dec.Decode(&m)
			page.resourceVersion, page.continueToken = m.ResourceVersion, m.Continue
		case "items":
			page.items, err = decodeItems(dec, func(u *unstructured.Unstructured) *unstructured.Unstructured {
				if u.GetKind() == "" && listKind != "" {
					u.SetAPIVersion(apiVersion)
					u.SetKind(kindOfList(listKind))
				}
				if keep == nil || u.GetKind() == "" {
					return u // the list's kind comes after its items: kept whole
				}
				return keep(u)
			})
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	kind := kindOfList(listKind)
	for _, u := range page.items {
		if u.GetKind() == "" {
			u.SetAPIVersion(apiVersion)
			u.SetKind(kind)
		}
	}
	return page, nil
}

func decodeItems(dec *json.Decoder, keep keepFunc) ([]*unstructured.Unstructured, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil // "items": null
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("items: want an array, got %v", tok)
	}
	var out []*unstructured.Unstructured
	var raw json.RawMessage
	for dec.More() {
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		// As client-go decodes objects: case-sensitive, integers as int64.
		var obj map[string]any
		if err := sigsjson.UnmarshalCaseSensitivePreserveInts(raw, &obj); err != nil {
			return nil, err
		}
		if obj == nil {
			return nil, errors.New("items: null item")
		}
		// managedFields are often the larger half of an object, and
		// nothing in a reconcile reads them.
		unstructured.RemoveNestedField(obj, "metadata", "managedFields")
		if u := keep(&unstructured.Unstructured{Object: obj}); u != nil {
			out = append(out, u)
		}
	}
	return out, expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("want %v, got %v", want, tok)
	}
	return nil
}

func kindOfList(listKind string) string {
	const suffix = "List"
	if len(listKind) > len(suffix) && listKind[len(listKind)-len(suffix):] == suffix {
		return listKind[:len(listKind)-len(suffix)]
	}
	return listKind
}
