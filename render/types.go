package render

import (
	"errors"
	"fmt"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/object"
)

// The annotation of SPEC section 1 that render alone reads, and the kinds
// of the config repo. The others are in internal/object.
const (
	// AnnotationSubstitute set to "disabled" turns substitution off for
	// one object; "enabled" turns it on for a Secret of an encrypted file,
	// which is not substituted otherwise.
	AnnotationSubstitute = "mcp.dev/substitute"

	// APIVersion is the apiVersion of Cluster and Placement documents.
	APIVersion = "mcp.dev/v1alpha1"
)

// MaxFileSize is the largest file render reads; larger files are refused
// so that a pull request cannot make the reconciler run out of memory.
const MaxFileSize = 10 << 20

// Options say what to render.
type Options struct {
	// CredentialsDir holds one kubeconfig per cluster. A Cluster's
	// kubeconfig path may not leave it. Empty skips the checks that need
	// the directory and keeps only the lexical ones.
	CredentialsDir string
	// Clusters limits the render to these cluster names; empty means all.
	// A name that no Cluster document has is an error.
	Clusters []string
	// Limits bound the render's time and each cluster's objects and bytes.
	Limits Limits
	// Decryption holds the keys of SOPS-encrypted manifests.
	Decryption Decryption
	// Capabilities are the connected clusters' versions and API
	// versions, by cluster name, that their charts are rendered for. A
	// cluster without an entry gets its spec.kubernetesVersion (or
	// DefaultKubernetesVersion) and Helm's default API versions.
	Capabilities map[string]Capabilities
	// ChartCache is the directory of fetched charts (helmrepo.Cache): a
	// chart of a chart repository is read from it, never fetched.
	ChartCache string
	// ChartFetchErrors are why charts could not be fetched before this
	// render, by helmrepo.Ref.String(): their placements fail rather than
	// render a stale resolution.
	ChartFetchErrors map[string]error
}

// Fleet is the desired state of every cluster at one revision.
type Fleet struct {
	// Revision is the Snapshot's revision.
	Revision string
	// Clusters are sorted by name.
	Clusters []ClusterState
	// Placements are sorted by name.
	Placements []Placement
	// Warnings are problems that do not stop a render, one line each.
	Warnings []string
	// ChartRenders is how many times a chart was rendered: once per
	// distinct chart, values, release, namespace and capabilities, however
	// many clusters receive it.
	ChartRenders int
}

// ClusterState is the desired state of one cluster.
type ClusterState struct {
	Cluster Cluster
	// Objects are sorted by object.Compare of their keys.
	Objects []Object
	// Err joins every problem of this cluster's render; when it is not nil
	// Objects is empty and nothing may be applied to the cluster.
	Err error
}

// Cluster is a Cluster document.
type Cluster struct {
	Name       string
	Labels     map[string]string
	Kubeconfig KubeconfigRef
	// InCluster means: use the pod's service account, not a kubeconfig.
	InCluster bool
	Vars      map[string]string
	// Paused means: diff and report, never write.
	Paused bool
	// KubernetesVersion is spec.kubernetesVersion: the version charts are
	// rendered for when the cluster's own is not known ("" means
	// DefaultKubernetesVersion).
	KubernetesVersion string
	// File and Line say where the document is, File relative to the repo root.
	File string
	Line int
}

// KubeconfigRef names a kubeconfig file below the credentials directory.
type KubeconfigRef struct {
	// Path is relative to the credentials directory; it defaults to the
	// cluster name.
	Path string
	// Context is the kubeconfig context; "" means its current context.
	Context string
}

// Placement is a Placement document: which manifests go to which clusters.
type Placement struct {
	Name string
	// Path is the manifest directory (or file), relative to the repo root;
	// for a chart in the repo, the chart's directory; "" for a remote chart.
	Path string
	// Chart is spec.chart; nil for a placement of manifests.
	Chart *Chart
	// Selector is spec.clusterSelector; nil selects no cluster by labels.
	Selector *metav1.LabelSelector
	// ClusterNames are the clusters named in spec.clusters.
	ClusterNames []string
	// Namespace is filled into namespaced objects that have none.
	Namespace string
	// Prune is spec.prune, default true.
	Prune bool
	// DependsOn names the Placements whose objects must be healthy on a
	// cluster before this one's are applied there (spec.dependsOn).
	DependsOn []string
	// Depth is 0 without DependsOn, else one more than the deepest
	// Placement it depends on: the order in which mcp applies placements.
	Depth int
	// Vars are substitution defaults; a Cluster's vars override them.
	Vars map[string]string
	// Selected are the names of every cluster the placement selects (all
	// clusters of the repo, also those Options.Clusters left out), sorted.
	Selected []string
	File     string
	Line     int

	// err is why the placement's manifests could not be loaded; every
	// selected cluster gets it.
	err error
}

// Object is one desired object on one cluster.
type Object struct {
	Obj *unstructured.Unstructured
	// File is where the object came from, relative to the repo root. For
	// kustomize builds it is the kustomization file.
	File string
	// Line is the 1-based line in File, 0 when unknown (kustomize output).
	Line int
	// Index is the 0-based position of the document in File or in the
	// kustomize build output.
	Index int
	// Placement is the name of the Placement that put the object here.
	Placement string
	// Wave is the mcp.dev/wave annotation, 0 when absent.
	Wave int
	// Depth is its Placement's Depth.
	Depth int
	// Encrypted says the object comes from a SOPS-encrypted file.
	Encrypted bool
	// Sealed says it was not decrypted (Decryption.KeepEncrypted): its
	// Secret values are their ciphertexts and it must never be applied.
	Sealed bool
	// Chart is "name@version" of the chart the object was rendered from,
	// "" for an object of manifests.
	Chart string
}

// Key is the object's identity on its cluster.
func (o Object) Key() object.Key { return object.KeyOf(o.Obj) }

// Source is "file:line" or "file (document N)", for messages.
func (o Object) Source() string {
	if o.Line > 0 {
		return o.File + ":" + strconv.Itoa(o.Line)
	}
	return fmt.Sprintf("%s (document %d)", o.File, o.Index+1)
}

// Cluster returns the state of the named cluster.
func (f *Fleet) Cluster(name string) (*ClusterState, bool) {
	for i := range f.Clusters {
		if f.Clusters[i].Cluster.Name == name {
			return &f.Clusters[i], true
		}
	}
	return nil, false
}

// Err joins the errors of every cluster and of every placement that could
// not be loaded; nil means every cluster rendered.
func (f *Fleet) Err() error {
	var errs []error
	for _, c := range f.Clusters {
		if c.Err != nil {
			errs = append(errs, c.Err)
		}
	}
	for _, p := range f.Placements {
		// A placement that selects a cluster already reported through it.
		if p.err != nil && len(p.Selected) == 0 {
			errs = append(errs, p.err)
		}
	}
	return errors.Join(errs...)
}

// ObjectCount is the number of objects over all clusters.
func (f *Fleet) ObjectCount() int {
	n := 0
	for _, c := range f.Clusters {
		n += len(c.Objects)
	}
	return n
}
