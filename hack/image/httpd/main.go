// Command httpd is the workload of the end-to-end tests: it answers every
// request with 200 and a body, on the address of $LISTEN (default
// 127.0.0.1:8080), and stops on SIGTERM. The body is $BODY, or the
// contents of the file $BODY_FILE (a Secret or ConfigMap volume), or "ok".
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := os.Getenv("LISTEN")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	body := os.Getenv("BODY")
	if body == "" {
		body = "ok"
	}
	srv := &http.Server{
		Addr:              addr,
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if f := os.Getenv("BODY_FILE"); f != "" {
				data, err := os.ReadFile(f)
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				w.Write(data)
				return
			}
			fmt.Fprintln(w, body)
		}),
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Printf("httpd: listening on %s", addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
