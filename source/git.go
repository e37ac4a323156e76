package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing/fstest"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/fleetform/fleetform/schema"
	"github.com/fleetform/fleetform/secret"
)

// GitConfig says which repository, which revision and which part of it.
// At most one of Branch, Tag and Commit is set; none means the remote's
// default branch (its HEAD).
type GitConfig struct {
	URL    string // https://…, http://…, ssh://…, git@host:path or git://…
	Branch string // e.g. "main"
	Tag    string // e.g. "v1.4.0"; annotated tags resolve to their commit
	Commit string // a full commit SHA: pinned, Head never moves
	Path   string // sub-path holding the documents ("" for the whole tree)
	// Depth of fetches (default 1: shallow). A pinned commit that is not the
	// tip of a branch needs a full fetch; Fetch falls back to one.
	Depth    int
	MaxBytes int64 // total size of a snapshot's files (default DefaultMaxBytes)
	// MaxRepoBytes bounds the objects the kept repository holds in memory
	// (default DefaultMaxRepoBytes). Past it the repository is fetched
	// afresh, shallow; a tip that alone needs more is an ErrTooLarge.
	MaxRepoBytes int64

	// HTTPS credentials: Basic auth, or a token as the password with any
	// non-empty username (GitHub: x-access-token, GitLab: oauth2).
	Username string
	Password *schema.SecretRef

	// SSH: a private key file, its passphrase, and the known_hosts file
	// used to verify the server (required: host keys are never skipped).
	SSHUser           string // default "git"
	SSHKeyFile        string
	SSHKeyPassphrase  *schema.SecretRef
	SSHKnownHostsFile string

	CABundleFile string // extra CA certificates for HTTPS (PEM)
}

// Validate reports configuration mistakes without changing the config.
func (c GitConfig) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("git: repository URL is required"))
	} else if strings.Contains(c.URL, "://") {
		// Neither the URL nor url.Parse's message is quoted: an unparseable
		// URL is most often a password with a reserved character, and
		// redactURL cannot find the user info in what does not parse.
		if _, err := url.Parse(c.URL); err != nil {
			errs = append(errs, errors.New("git: repository URL does not parse (percent-encode reserved characters such as #, / and % in a user name or password, or use --git-password-file)"))
		}
	}
	set := 0
	for _, s := range []string{c.Branch, c.Tag, c.Commit} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		errs = append(errs, errors.New("git: set at most one of branch, tag and commit"))
	}
	if c.Commit != "" && !plumbing.IsHash(c.Commit) {
		errs = append(errs, fmt.Errorf("git: commit %q is not a full 40-hex SHA", c.Commit))
	}
	if _, err := cleanRoot(c.Path); err != nil {
		errs = append(errs, fmt.Errorf("git: %w", err))
	}
	if c.Password != nil && c.SSHKeyFile != "" {
		errs = append(errs, errors.New("git: use either HTTPS credentials or an SSH key, not both"))
	}
	if c.SSHKeyFile != "" && c.SSHKnownHostsFile == "" {
		errs = append(errs, errors.New("git: an SSH key needs a known_hosts file (host keys are always verified)"))
	}
	return errors.Join(errs...)
}

// DefaultMaxRepoBytes is the default bound of the kept repository's objects.
const DefaultMaxRepoBytes = 256 << 20

// Git is a Source over a remote Git repository. It keeps nothing on disk:
// Head lists the remote's references (one ls-remote); Fetch fetches into a
// repository kept in memory between fetches, so a change brings only the
// objects it added, and reads the sub-path fully before returning. The
// kept repository is bounded by MaxRepoBytes.
type Git struct {
	cfg  GitConfig
	root string

	mu   sync.Mutex // one fetch at a time; guards repo and st
	repo *git.Repository
	st   *memory.Storage
}

// NewGit checks cfg and returns the source. It does not contact the remote.
func NewGit(cfg GitConfig) (*Git, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	root, _ := cleanRoot(cfg.Path)
	if cfg.Depth == 0 {
		cfg.Depth = 1
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxRepoBytes == 0 {
		cfg.MaxRepoBytes = DefaultMaxRepoBytes
	}
	return &Git{cfg: cfg, root: root}, nil
}

// String describes the source for logs and status pages, without credentials.
func (g *Git) String() string {
	s := "git " + redactURL(g.cfg.URL)
	switch {
	case g.cfg.Branch != "":
		s += " branch " + g.cfg.Branch
	case g.cfg.Tag != "":
		s += " tag " + g.cfg.Tag
	case g.cfg.Commit != "":
		s += " commit " + g.cfg.Commit
	}
	if g.root != "." {
		s += " path " + g.root
	}
	return s
}

// Ref is the full reference name tracked ("refs/heads/main"), or "" when the
// source follows the remote's default branch or a pinned commit.
func (g *Git) Ref() string {
	switch {
	case g.cfg.Branch != "":
		return plumbing.NewBranchReferenceName(g.cfg.Branch).String()
	case g.cfg.Tag != "":
		return plumbing.NewTagReferenceName(g.cfg.Tag).String()
	}
	return ""
}

// Head returns the commit the tracked reference points at, using one
// ls-remote round trip. A pinned commit is returned as is.
func (g *Git) Head(ctx context.Context) (string, error) {
	if g.cfg.Commit != "" {
		return strings.ToLower(g.cfg.Commit), nil
	}
	r, want, err := g.lsRemote(ctx)
	if err != nil {
		return "", err
	}
	if r.Hash().IsZero() {
		return "", fmt.Errorf("git ls-remote %s: %w: reference %s", redactURL(g.cfg.URL), ErrNotFound, want)
	}
	return r.Hash().String(), nil
}

// TrackedRef is the full name of the branch or tag the source follows.
// Without --branch or --tag that is the remote's default branch (where its
// HEAD points), found with one ls-remote; webhooks use it to ignore pushes
// to other branches. It is "" for a pinned commit, or when the server does
// not say where HEAD points.
func (g *Git) TrackedRef(ctx context.Context) (string, error) {
	if ref := g.Ref(); ref != "" || g.cfg.Commit != "" {
		return ref, nil
	}
	r, _, err := g.lsRemote(ctx)
	if err != nil {
		return "", err
	}
	if name := r.Name(); name.IsBranch() || name.IsTag() {
		return name.String(), nil
	}
	return "", nil
}

// lsRemote lists the remote's references and resolves the tracked one
// (following symbolic references, and peeling an annotated tag): r is the
// reference that holds the commit, want the name that was looked up.
func (g *Git) lsRemote(ctx context.Context) (r *plumbing.Reference, want plumbing.ReferenceName, err error) {
	auth, err := g.auth(ctx)
	if err != nil {
		return nil, "", err
	}
	opts := &git.ListOptions{Auth: auth, PeelingOption: git.AppendPeeled}
	if opts.CABundle, err = g.caBundle(); err != nil {
		return nil, "", err
	}
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{g.cfg.URL}})
	refs, err := remote.ListContext(ctx, opts)
	if err != nil {
		return nil, "", g.classify("ls-remote", err)
	}
	byName := make(map[plumbing.ReferenceName]*plumbing.Reference, len(refs))
	for _, r := range refs {
		byName[r.Name()] = r
	}
	switch {
	case g.cfg.Branch != "":
		want = plumbing.NewBranchReferenceName(g.cfg.Branch)
	case g.cfg.Tag != "":
		want = plumbing.NewTagReferenceName(g.cfg.Tag)
		if peeled, ok := byName[want+"^{}"]; ok {
			return plumbing.NewHashReference(want, peeled.Hash()), want, nil
		}
	default:
		want = plumbing.HEAD
	}
	r, ok := byName[want]
	for hops := 0; ok && r.Type() == plumbing.SymbolicReference && hops < 5; hops++ {
		r, ok = byName[r.Target()]
	}
	if !ok {
		return nil, "", fmt.Errorf("git ls-remote %s: %w: reference %s", redactURL(g.cfg.URL), ErrNotFound, want)
	}
	return r, want, nil
}

// Fetch clones the tracked reference shallowly into memory and returns the
// YAML files under the sub-path at rev. If the reference moved past rev in
// the meantime, the snapshot is of the new tip and its Revision says so.
// When rev is neither the tip nor reachable in the shallow history, Fetch
// retries with a full clone before giving up with ErrNotFound.
func (g *Git) Fetch(ctx context.Context, rev string) (Snapshot, error) {
	auth, err := g.auth(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	ca, err := g.caBundle()
	if err != nil {
		return Snapshot{}, err
	}
	depth := g.cfg.Depth
	if g.cfg.Commit != "" {
		rev = strings.ToLower(g.cfg.Commit)
	}
	for {
		snap, retry, err := g.fetch(ctx, rev, auth, ca, depth)
		if retry && depth > 0 {
			depth = 0 // full history
			continue
		}
		return snap, err
	}
}

func (g *Git) fetch(ctx context.Context, rev string, auth transport.AuthMethod, ca []byte, depth int) (_ Snapshot, retry bool, _ error) {
	if g.cfg.Commit == "" {
		return g.fetchKept(ctx, rev, auth, ca, depth)
	}
	// A pinned commit never moves: it is cloned once per start-up.
	opts := &git.CloneOptions{
		URL:          g.cfg.URL,
		Auth:         auth,
		CABundle:     ca,
		NoCheckout:   true,
		Depth:        depth,
		Tags:         git.NoTags,
		SingleBranch: g.cfg.Commit == "",
	}
	if ref := g.Ref(); ref != "" {
		opts.ReferenceName = plumbing.ReferenceName(ref)
	}
	if g.cfg.Tag != "" {
		opts.Tags = git.AllTags
	}
	repo, err := git.CloneContext(ctx, memory.NewStorage(), nil, opts)
	if err != nil {
		return Snapshot{}, false, g.classify("fetch", err)
	}
	return g.snapshot(ctx, repo, rev, depth)
}

// snapshot reads rev (or, when rev is not in repo, the tip HEAD names).
func (g *Git) snapshot(ctx context.Context, repo *git.Repository, rev string, depth int) (_ Snapshot, retry bool, _ error) {
	var (
		commit *object.Commit
		err    error
	)
	if rev != "" {
		commit, err = repo.CommitObject(plumbing.NewHash(rev))
	}
	if rev == "" || (err != nil && g.cfg.Commit == "") {
		// Not in what we fetched: the reference moved on. Use its tip.
		var head *plumbing.Reference
		if head, err = repo.Head(); err == nil {
			commit, err = repo.CommitObject(head.Hash())
		}
	}
	if err != nil {
		if depth > 0 {
			return Snapshot{}, true, nil
		}
		return Snapshot{}, false, fmt.Errorf("git fetch %s: %w: commit %s: %w", redactURL(g.cfg.URL), ErrNotFound, rev, err)
	}
	files, err := g.readTree(ctx, commit)
	if err != nil {
		return Snapshot{}, false, fmt.Errorf("git fetch %s at %s: %w", redactURL(g.cfg.URL), commit.Hash, err)
	}
	return Snapshot{Revision: commit.Hash.String(), FS: files, Root: g.root}, false, nil
}

// readTree copies every YAML blob under the sub-path into memory.
func (g *Git) readTree(ctx context.Context, commit *object.Commit) (fstest.MapFS, error) {
	tree, err := commit.Tree()
	if err != nil {
		return nil, err
	}
	if g.root != "." {
		if _, err := tree.FindEntry(g.root); err != nil {
			return nil, fmt.Errorf("%w: path %s: %w", ErrNotFound, g.root, err)
		}
	}
	files := fstest.MapFS{}
	var total int64
	it := tree.Files()
	defer it.Close()
	err = it.ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !under(g.root, f.Name) || !isDocument(f.Name) {
			return nil
		}
		if f.Mode == filemode.Symlink {
			// Its blob is the link's target path, not a document; following
			// it could leave the sub-path. Say so instead of loading the path
			// as YAML.
			return fmt.Errorf("%s is a symbolic link: links in the repository are not followed; commit the file itself", f.Name)
		}
		if !f.Mode.IsFile() {
			return nil
		}
		if total += f.Size; total > g.cfg.MaxBytes {
			return fmt.Errorf("%w: more than %d bytes under %s", ErrTooLarge, g.cfg.MaxBytes, g.root)
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", f.Name, err)
		}
		files[f.Name] = &fstest.MapFile{Data: data, Mode: 0o444}
		return nil
	})
	return files, err
}

// auth builds the transport credentials, resolving secret references now.
func (g *Git) auth(ctx context.Context) (transport.AuthMethod, error) {
	switch {
	case g.cfg.SSHKeyFile != "":
		var pass secret.Value
		if g.cfg.SSHKeyPassphrase != nil {
			v, err := g.cfg.SSHKeyPassphrase.Resolve(ctx)
			if err != nil {
				return nil, fmt.Errorf("git: SSH key passphrase %s: %w", g.cfg.SSHKeyPassphrase.Describe(), err)
			}
			pass = v
		}
		user := g.cfg.SSHUser
		if user == "" {
			user = "git"
		}
		keys, err := gitssh.NewPublicKeysFromFile(user, g.cfg.SSHKeyFile, pass.Reveal())
		if err != nil {
			return nil, fmt.Errorf("git: SSH key %s: %w: %w", g.cfg.SSHKeyFile, ErrAuth, err)
		}
		cb, err := gitssh.NewKnownHostsCallback(g.cfg.SSHKnownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("git: known_hosts %s: %w", g.cfg.SSHKnownHostsFile, err)
		}
		keys.HostKeyCallback = cb
		return keys, nil
	case g.cfg.Password != nil:
		v, err := g.cfg.Password.Resolve(ctx)
		if err != nil {
			return nil, fmt.Errorf("git: password %s: %w", g.cfg.Password.Describe(), err)
		}
		user := g.cfg.Username
		if user == "" {
			user = "git"
		}
		return &githttp.BasicAuth{Username: user, Password: v.Reveal()}, nil
	}
	return nil, nil
}

func (g *Git) caBundle() ([]byte, error) {
	if g.cfg.CABundleFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(g.cfg.CABundleFile)
	if err != nil {
		return nil, fmt.Errorf("git: CA bundle: %w", err)
	}
	return b, nil
}

// classify wraps err with ErrAuth, ErrNotFound or ErrUnreachable when it can
// tell, and strips credentials from any URL in the message.
func (g *Git) classify(op string, err error) error {
	class := ErrUnreachable
	var netErr net.Error
	var urlErr *url.Error
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("git %s %s: %w", op, redactURL(g.cfg.URL), err)
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod), strings.Contains(err.Error(), "unable to authenticate"),
		strings.Contains(err.Error(), "knownhosts:"): // the server's host key is not trusted
		class = ErrAuth
	case errors.Is(err, transport.ErrRepositoryNotFound), errors.Is(err, transport.ErrEmptyRemoteRepository),
		errors.Is(err, plumbing.ErrReferenceNotFound), errors.Is(err, git.NoMatchingRefSpecError{}):
		class = ErrNotFound
	case errors.As(err, &netErr), errors.As(err, &urlErr):
		class = ErrUnreachable
	}
	return fmt.Errorf("git %s %s: %w: %s", op, redactURL(g.cfg.URL), class, redactText(err.Error(), g.cfg.URL))
}

// redactURL drops user info and query from a URL; scp-like SSH addresses
// (git@host:path) carry no secret and are returned unchanged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
		if _, has := u.User.Password(); !has && u.Scheme != "ssh" {
			u.User = nil
		}
	}
	u.RawQuery = ""
	return u.String()
}

// redactText replaces the raw URL (which may hold a password) in s.
func redactText(s, raw string) string {
	if r := redactURL(raw); r != raw {
		s = strings.ReplaceAll(s, raw, r)
	}
	return s
}
