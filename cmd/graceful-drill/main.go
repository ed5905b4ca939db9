// Command graceful-drill restarts a Deployment while sending load to a URL,
// and reports every request that failed: `graceful drill` runs it. It is a
// binary of its own so that client-go never slows down `graceful render`.
// This package only parses flags; the work is in package drill.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/graceful-dev/graceful/drill"
)

// Exit codes: 1 = requests failed during the restart, 2 = the drill could
// not run (flags, cluster, URL).
const (
	exitFailedRequests = 1
	exitError          = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var (
		namespace, kubeconfig, kubeContext, url, bigPath, smallPath string
		duration, timeout                                           time.Duration
		rate                                                        float64
		keepAlive, newConn, downloads                               int
		failed                                                      bool
	)
	cmd := &cobra.Command{
		Use:   "graceful drill deployment/NAME --url URL [flags]",
		Short: "Restart a Deployment under load and count the requests that failed",
		Long: `graceful drill restarts a Deployment (as kubectl rollout restart does) in the
cluster your kubeconfig names, while it sends requests to URL (your ingress or
load balancer): keep-alive clients, clients on new connections and, with
--download-path, slow downloads. It waits until the new pods are available and
the old ones are gone, then prints requests per second, failures by class and
the timeline of the pods. It exits 1 if any request failed.

The load is bounded: it stops after the rollout (at least --duration), or at
--timeout. Send it only to a URL you own.`,
		Example:       "  graceful drill deployment/web -n shop --url https://shop.example.com/healthz --duration 60s --rate 50",
		Args:          cobra.ExactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, name, ok := strings.Cut(args[0], "/")
			if !ok || (kind != "deployment" && kind != "deployments" && kind != "deploy" && kind != "deployment.apps") {
				return fmt.Errorf("want deployment/NAME, got %q", args[0])
			}
			if url == "" {
				return fmt.Errorf("--url is required: where to send the load")
			}
			rules := clientcmd.NewDefaultClientConfigLoadingRules()
			if kubeconfig != "" {
				rules.ExplicitPath = kubeconfig
			}
			cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
			if namespace == "" {
				ns, _, err := cc.Namespace()
				if err != nil {
					return err
				}
				namespace = ns
			}
			cfg, err := cc.ClientConfig()
			if err != nil {
				return err
			}
			client, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(stderr, "graceful drill: restarting deployment/%s in %s under load to %s\n", name, namespace, url)
			rep, err := drill.Run(ctx, drill.Options{
				Client: client, Namespace: namespace, Deployment: name,
				Load: drill.Load{URL: url, SmallPath: smallPath, BigPath: bigPath, KeepAlive: keepAlive, NewConn: newConn,
					Downloads: downloads, Rate: rate},
				Warmup: 2 * time.Second, Settle: 2 * time.Second, MinDuration: duration, RolloutTimeout: timeout,
				Progress: stderr,
			})
			if rep != nil {
				rep.Write(stdout)
				failed = rep.Failed() > 0
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&namespace, "namespace", "n", "", "namespace of the Deployment (default: the kubeconfig's)")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&kubeContext, "context", "", "kubeconfig context (default: the current one)")
	f.StringVar(&url, "url", "", "base URL the load goes to, e.g. http://127.0.0.1:30080")
	f.StringVar(&smallPath, "path", "/", "path of the short requests")
	f.StringVar(&bigPath, "download-path", "", "path of a large response to download slowly while pods stop (default: no downloads)")
	f.DurationVar(&duration, "duration", 0, "send load at least this long (default: until the rollout is done)")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "give up when the rollout takes longer")
	f.Float64Var(&rate, "rate", drill.DefaultRate, "short requests per second, all clients together")
	f.IntVar(&keepAlive, "keepalive-clients", drill.DefaultKeepAlive, "clients that reuse one connection")
	f.IntVar(&newConn, "new-connection-clients", drill.DefaultNewConn, "clients that open a connection per request")
	f.IntVar(&downloads, "downloads", drill.DefaultDownloads, "concurrent downloads of --download-path")
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(stderr, "graceful drill:", err)
		return exitError
	}
	if failed {
		fmt.Fprintln(stderr, "graceful drill: requests failed during the restart")
		return exitFailedRequests
	}
	return 0
}
