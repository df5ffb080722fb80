package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubernetes/pkg/controller/clusterroleaggregation"
)

// startClusterRoleAggregation runs kube-controller-manager's clusterrole-aggregation controller in this
// process. No kube-controller-manager runs here, and without that controller the built-in aggregated
// ClusterRoles (admin, edit, view) have no rules at all, so binding a subject to "view" grants nothing.
// It returns once "view" has its aggregated rules (or after 30 s, with a warning), so that when READY is
// printed the built-in roles behave as in a real cluster.
func startClusterRoleAggregation(server string, pki pkiFiles) error {
	client, err := kubernetes.NewForConfig(&rest.Config{
		Host: server,
		TLSClientConfig: rest.TLSClientConfig{
			CAFile: pki.caCert, CertFile: pki.adminCert, KeyFile: pki.adminKey,
		},
		UserAgent: "regcred-controlplane/clusterrole-aggregation",
	})
	if err != nil {
		return err
	}
	// Stop watching when the process is told to stop: the API server's graceful shutdown waits for open
	// connections, and this informer's watch would hold it up until the shutdown timeout.
	ctx, _ := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	factory := informers.NewSharedInformerFactory(client, 0)
	controller := clusterroleaggregation.NewClusterRoleAggregation(factory.Rbac().V1().ClusterRoles(), client.RbacV1())
	factory.Start(ctx.Done())
	go controller.Run(ctx, 1)

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		view, err := client.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
		if err == nil && len(view.Rules) > 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintln(os.Stderr, "regcred-controlplane: warning: ClusterRole view still has no aggregated rules after 30s")
	return nil
}
