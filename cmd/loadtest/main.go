// Command loadtest measures the callout path: it starts ticketpager (real HTTP
// server, SQLite file in a temporary folder, job workers) against the fake
// Autotask, posts callouts over HTTP from concurrent clients for a fixed time,
// and reports callouts per second, latency percentiles and Autotask requests
// per callout. Only loopback addresses are used; it stops by itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ticketpager/ticketpager/internal/autotask/autotasktest"
	"github.com/ticketpager/ticketpager/internal/harness"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long to send callouts (at most 5m)")
	warmup := flag.Duration("warmup", 2*time.Second, "callouts sent before measuring (fills the caches, creates incidents)")
	workers := flag.Int("concurrency", 16, "concurrent HTTP clients")
	tickets := flag.Int("tickets", 500, "distinct tickets the callouts are about")
	latency := flag.Duration("autotask-latency", 0, "latency the fake Autotask adds to every request")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured run (server, fake and clients in one process) to this file")
	pages := flag.Int("pages", 0, "instead of the callout load: measure callout-to-first-email latency over this many new incidents")
	rate := flag.Float64("rate", 20, "with -pages: callouts per second")
	postgres := flag.String("postgres", "", "run on PostgreSQL: a server URL on which a throwaway database is created and dropped (default: SQLite)")
	replicas := flag.Int("replicas", 1, "service instances on one database, callouts spread over them (PostgreSQL only)")
	flag.Parse()
	if *duration > 5*time.Minute || *workers < 1 || *workers > 512 || *tickets < 1 {
		log.Fatal("loadtest: -duration at most 5m, -concurrency 1..512, -tickets at least 1")
	}
	ctx := context.Background()
	if *pages > 0 {
		mbox, err := harness.StartMailbox()
		must(err)
		defer mbox.Stop()
		h, err := harness.Start(ctx, harness.Options{Mailbox: mbox})
		must(err)
		defer h.Close()
		firstPages(h, mbox, *pages, *rate)
		return
	}
	if *replicas > 1 && *postgres == "" {
		log.Fatal("loadtest: -replicas needs -postgres")
	}
	o := harness.Options{SecretKey: "loadtest replicas share this secret key"}
	if *postgres != "" {
		url, drop, err := throwawayDatabase(*postgres)
		must(err)
		defer drop()
		o.DatabaseURL = url
	}
	h, err := harness.Start(ctx, o)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	h.Fake.SetLatency(*latency)
	all := []*harness.Harness{h}
	for range *replicas - 1 {
		o.Fake = h.Fake
		r, err := harness.Start(ctx, o)
		must(err)
		defer r.Close()
		all = append(all, r)
	}

	// Tickets in a realistic mix: most stay open (New / In Progress), some are parked.
	labels := []string{"New", "New", "In Progress", "In Progress", "Waiting Customer", "Customer Note Added"}
	ids := make([]int64, *tickets)
	for i := range ids {
		st := h.Fake.StatusValue(labels[i%len(labels)])
		if st < 0 {
			st = h.Fake.StatusValue("New")
		}
		t := h.Fake.AddTicket(autotasktest.Ticket{Title: fmt.Sprintf("Load ticket %d", i), Status: st,
			Priority: h.Fake.PriorityValue("Medium"), CompanyID: harness.CompanyID})
		ids[i] = t.ID
	}

	run(all, ids, *workers, *warmup) // warm up: caches filled, incidents created
	before := h.Fake.TotalRequests()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	lat, statuses, elapsed := run(all, ids, *workers, *duration)
	pprof.StopCPUProfile()
	requests := h.Fake.TotalRequests() - before

	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	backend := "SQLite"
	if *postgres != "" {
		backend = fmt.Sprintf("PostgreSQL, %d replica(s)", *replicas)
	}
	fmt.Printf("callouts:              %d in %s on %s (%d concurrent clients, %d tickets, fake latency %s)\n",
		len(lat), elapsed.Round(time.Millisecond), backend, *workers, *tickets, *latency)
	fmt.Printf("callouts per second:   %.0f\n", float64(len(lat))/elapsed.Seconds())
	fmt.Printf("latency p50 / p99:     %s / %s (max %s)\n", pct(0.50).Round(10*time.Microsecond),
		pct(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	fmt.Printf("Autotask requests:     %.3f per callout (%d)\n", float64(requests)/float64(len(lat)), requests)
	fmt.Printf("answers by status:     %v\n", statuses)
	if statuses[500] > 0 || statuses[0] > 0 {
		os.Exit(1)
	}
}

// run sends callouts from n clients for d, spread over the replicas, and
// returns each latency and the count per status.
func run(replicas []*harness.Harness, ids []int64, n int, d time.Duration) ([]time.Duration, map[int]int, time.Duration) {
	var mu sync.Mutex
	var all []time.Duration
	statuses := map[int]int{}
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	time.AfterFunc(d, func() { stop.Store(true) })
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			h := replicas[w%len(replicas)]
			var mine []time.Duration
			local := map[int]int{}
			for !stop.Load() {
				t0 := time.Now()
				code, _, err := h.Callout(ids[r.IntN(len(ids))])
				if err != nil {
					code = 0
				}
				mine = append(mine, time.Since(t0))
				local[code]++
			}
			mu.Lock()
			all = append(all, mine...)
			for k, v := range local {
				statuses[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, statuses, time.Since(start)
}
