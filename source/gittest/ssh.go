package gittest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHServer is what ServeSSH started.
type SSHServer struct {
	URL            string // ssh://git@127.0.0.1:port/fleet.git
	ClientKeyFile  string // the private key the server accepts (OpenSSH PEM)
	KnownHostsFile string // a known_hosts line for the server's host key
	OtherKeyFile   string // a valid key the server does not accept
}

// ServeSSH serves Root over SSH on loopback: an in-process SSH server that
// accepts one client key and runs git-upload-pack / git-receive-pack for
// exec requests, as a Git host does.
func (r *Repo) ServeSSH() SSHServer {
	r.t.Helper()
	dir := r.t.TempDir()
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		r.t.Fatal(err)
	}
	writeKey := func(name string) ssh.PublicKey {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			r.t.Fatal(err)
		}
		sp, _ := ssh.NewPublicKey(pub)
		return sp
	}
	clientPub := writeKey("id_ed25519")
	writeKey("other_ed25519")
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(clientPub.Marshal()) {
				return nil, nil
			}
			return nil, errUnknownKey
		},
	}
	cfg.AddHostKey(hostSigner)
	addr := r.serveConns(func(conn net.Conn) { r.serveSSHConn(conn, cfg) })
	known := knownhosts.Line([]string{knownhosts.Normalize(addr)}, hostSigner.PublicKey())
	knownFile := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(knownFile, []byte(known+"\n"), 0o600); err != nil {
		r.t.Fatal(err)
	}
	return SSHServer{URL: "ssh://git@" + addr + "/fleet.git", ClientKeyFile: filepath.Join(dir, "id_ed25519"),
		KnownHostsFile: knownFile, OtherKeyFile: filepath.Join(dir, "other_ed25519")}
}

type sshError string

func (e sshError) Error() string { return string(e) }

const errUnknownKey = sshError("unknown public key")

func (r *Repo) serveSSHConn(conn net.Conn, cfg *ssh.ServerConfig) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go r.serveSession(ch, chReqs)
	}
}

func (r *Repo) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" || len(req.Payload) < 4 {
			_ = req.Reply(req.Type == "env", nil)
			continue
		}
		cmdline := string(req.Payload[4:])
		prog, arg, _ := strings.Cut(cmdline, " ")
		if prog != "git-upload-pack" && prog != "git-receive-pack" {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		repoPath := filepath.Join(r.Root, filepath.Clean("/"+strings.Trim(arg, "'\"")))
		cmd := exec.Command("git", strings.TrimPrefix(prog, "git-"), repoPath)
		cmd.Env = r.Env()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
		status := uint32(0)
		if err := cmd.Run(); err != nil {
			status = 1
		}
		_ = ch.CloseWrite()
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], status)
		_, _ = ch.SendRequest("exit-status", false, b[:])
		return
	}
}
