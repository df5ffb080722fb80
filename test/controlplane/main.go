// Command regcred-controlplane runs a real Kubernetes control plane on loopback for regcred's tests
// and for `npm start`: an embedded etcd and the kube-apiserver of k8s.io/kubernetes, in one process.
//
// It keeps everything in --data-dir (certificates, kubeconfig, etcd data, chosen ports), so starting
// it again with the same directory brings the same cluster back: that is how tests restart the API
// server. When the API server answers /readyz it prints one line to stdout:
//
//	REGCRED_CONTROLPLANE_READY {"server":"https://127.0.0.1:PORT","kubeconfig":"DIR/kubeconfig",...}
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

type state struct {
	APIServerPort int `json:"apiServerPort"`
	EtcdPort      int `json:"etcdPort"`
	EtcdPeerPort  int `json:"etcdPeerPort"`
}

type readyLine struct {
	Server     string `json:"server"`
	Kubeconfig string `json:"kubeconfig"`
	CACert     string `json:"caCert"`
	AdminCert  string `json:"adminCert"`
	AdminKey   string `json:"adminKey"`
	PID        int    `json:"pid"`
}

func main() {
	dataDir := flag.String("data-dir", "", "directory for certificates, kubeconfig and etcd data (required)")
	flag.Parse()
	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "regcred-controlplane: --data-dir is required")
		os.Exit(2)
	}
	if err := run(*dataDir); err != nil {
		fmt.Fprintf(os.Stderr, "regcred-controlplane: %v\n", err)
		os.Exit(1)
	}
}

func run(dataDir string) error {
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := loadOrChoosePorts(filepath.Join(dir, "state.json"))
	if err != nil {
		return err
	}
	pki, err := ensurePKI(filepath.Join(dir, "pki"))
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", st.APIServerPort)
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, server, pki); err != nil {
		return err
	}

	etcd, err := startEtcd(filepath.Join(dir, "etcd"), st)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer etcd.Close()

	go announceWhenReady(server, pki, readyLine{
		Server: server, Kubeconfig: kubeconfig, CACert: pki.caCert,
		AdminCert: pki.adminCert, AdminKey: pki.adminKey, PID: os.Getpid(),
	})

	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(apiServerArgs(dir, st, pki))
	// The command installs its own SIGINT/SIGTERM handler and returns after a graceful shutdown.
	return cmd.Execute()
}

func apiServerArgs(dir string, st state, pki pkiFiles) []string {
	return []string{
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", st.EtcdPort),
		fmt.Sprintf("--secure-port=%d", st.APIServerPort),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// The "kubernetes" Service endpoints may not point at loopback; nothing here needs them.
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + pki.servingCert,
		"--tls-private-key-file=" + pki.servingKey,
		"--client-ca-file=" + pki.caCert,
		"--cert-dir=" + filepath.Join(dir, "apiserver-certs"),
		"--authorization-mode=RBAC",
		"--enable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
		// No kube-controller-manager runs here, so nothing creates each namespace's "default"
		// ServiceAccount; the ServiceAccount plugin would then refuse every pod.
		"--disable-admission-plugins=ServiceAccount",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pki.saPub,
		"--service-account-signing-key-file=" + pki.saKey,
		"--api-audiences=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
		"--profiling=false",
		// Without this, an open watch (any informer) holds a graceful shutdown up until it is killed.
		"--shutdown-watch-termination-grace-period=2s",
		"--v=1",
	}
}

func loadOrChoosePorts(path string) (state, error) {
	var st state
	if raw, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(raw, &st); err != nil {
			return st, fmt.Errorf("%s is not valid JSON: %w", path, err)
		}
		return st, nil
	}
	ports, err := freePorts(3)
	if err != nil {
		return st, err
	}
	st = state{APIServerPort: ports[0], EtcdPort: ports[1], EtcdPeerPort: ports[2]}
	raw, _ := json.Marshal(st)
	return st, os.WriteFile(path, raw, 0o600)
}

func freePorts(n int) ([]int, error) {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func startEtcd(dir string, st state) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "regcred-test"
	cfg.Dir = dir
	cfg.LogLevel = "error"
	client := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", st.EtcdPort)}
	peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", st.EtcdPeerPort)}
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("etcd did not become ready within 60s")
	}
}

func announceWhenReady(server string, pki pkiFiles, line readyLine) {
	client, err := adminHTTPClient(pki)
	if err != nil {
		fmt.Fprintf(os.Stderr, "regcred-controlplane: %v\n", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := client.Get(server + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				if err := startClusterRoleAggregation(server, pki); err != nil {
					fmt.Fprintf(os.Stderr, "regcred-controlplane: clusterrole aggregation: %v\n", err)
				}
				raw, _ := json.Marshal(line)
				fmt.Printf("REGCRED_CONTROLPLANE_READY %s\n", raw)
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Fprintln(os.Stderr, "regcred-controlplane: the API server did not become ready within 5 minutes")
}
