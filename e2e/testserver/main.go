// Command testserver is the drill's stand-in for the applications graceful's
// profiles describe. It serves
//
//	/        a short answer ("ok")
//	/healthz readiness
//	/big     BIG_BYTES bytes (default 10 MiB) at BIG_RATE bytes a second
//	         (default 1 MiB/s): a long download, paced by the server so that
//	         its end is not sitting in socket buffers when the server exits
//
// on :8080, and stops the way the application of MODE does:
//
//	generic-http  SIGTERM: stop accepting, finish every request, exit
//	spring        SIGTERM: with SERVER_SHUTDOWN=graceful, stop accepting and
//	              finish requests for at most SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE
//	              (default 30s); otherwise stop at once, like Spring Boot's
//	              "immediate" shutdown (the default before 3.4)
//	tidb          SIGQUIT: stop accepting, finish every request, exit; SIGTERM:
//	              stop accepting, finish requests for 15 s, then cut the rest
//	              (tidb-server before the 2022 change, FACTS.md)
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tidbTermDrain is how long tidb-server drains on SIGTERM before it cuts.
const tidbTermDrain = 15 * time.Second

func main() {
	mode := os.Getenv("MODE")
	size := 10 << 20
	if s := os.Getenv("BIG_BYTES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			log.Fatalf("BIG_BYTES: %v", err)
		}
		size = n
	}
	rate := 1 << 20
	if s := os.Getenv("BIG_RATE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			log.Fatalf("BIG_RATE: %q", s)
		}
		rate = n
	}
	chunk := []byte(strings.Repeat("graceful", 8192)) // 64 KiB
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		start := time.Now()
		for sent := 0; sent < size; {
			n := min(size-sent, len(chunk))
			if _, err := w.Write(chunk[:n]); err != nil {
				return
			}
			sent += n
			if d := time.Duration(float64(sent)/float64(rate)*float64(time.Second)) - time.Since(start); d > 0 {
				time.Sleep(d)
			}
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", ":8080")
	if err != nil {
		log.Fatal(err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGINT)
	go func() {
		if err := srv.Serve(ln); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	log.Printf("testserver: mode %q, listening on :8080", mode)
	sig := <-sigs
	drain := drainFor(mode, sig)
	log.Printf("testserver: %v: drain %v", sig, drain)
	if drain == 0 {
		srv.Close()
		os.Exit(1)
	}
	ctx := context.Background()
	if drain > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, drain)
		defer cancel()
	}
	if err := srv.Shutdown(ctx); err != nil {
		log.Printf("testserver: drain cut: %v", err)
		srv.Close()
	}
	log.Printf("testserver: stopped")
}

// drainFor is how long MODE finishes requests after sig: 0 = not at all,
// negative = without a limit.
func drainFor(mode string, sig os.Signal) time.Duration {
	switch mode {
	case "spring":
		if os.Getenv("SERVER_SHUTDOWN") != "graceful" {
			return 0
		}
		d := 30 * time.Second
		if s := os.Getenv("SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE"); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil {
				log.Printf("testserver: SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE=%q: %v; using 30s", s, err)
			} else {
				d = v
			}
		}
		return d
	case "tidb":
		if sig == syscall.SIGQUIT {
			return -1
		}
		return tidbTermDrain
	default: // generic-http
		return -1
	}
}
