#!/usr/bin/env escript
%% -*- erlang -*-
%% Message throughput between two processes: ping-pong round trips per second
%% (plain `!`/receive, and gen_server:call), and one-way messages per second
%% (a sender floods a counting receiver; timed until the receiver has them all).
%% Each figure is the median of RUNS runs.
%%
%%   escript message_throughput.escript [Messages]     (default 1000000)
-module(otp_message_throughput).
-mode(compile).
-export([main/1, init/1, start_worker/1,
         handle_call/3, handle_cast/2, handle_info/2, terminate/2]).
-include("bench_common.hrl").

-define(RUNS, 3).

main(Args) ->
    N = count_arg(Args, 1000000),
    bench_setup(),
    metric("pingpong_roundtrips_per_s", runs(fun() -> pingpong(N) end)),
    metric("gen_server_call_roundtrips_per_s", runs(fun() -> gen_call(N div 2) end)),
    metric("oneway_messages_per_s", runs(fun() -> oneway(2 * N) end)).

runs(Fun) -> median([Fun() || _ <- lists:seq(1, ?RUNS)]).

rate(Count, Ns) -> Count / (Ns / 1.0e9).

pingpong(N) ->
    Ponger = spawn_link(fun pong/0),
    T0 = now_ns(),
    ping(N, Ponger),
    Rate = rate(N, now_ns() - T0),
    Ponger ! stop,
    Rate.

ping(0, _Ponger) -> ok;
ping(K, Ponger) ->
    Ponger ! {ping, self()},
    receive pong -> ping(K - 1, Ponger) end.

pong() ->
    receive
        {ping, From} -> From ! pong, pong();
        stop -> ok
    end.

gen_call(N) ->
    {ok, Server} = start_worker(none),
    T0 = now_ns(),
    call_loop(N, Server),
    Rate = rate(N, now_ns() - T0),
    unlink(Server),
    gen_server:stop(Server),
    Rate.

call_loop(0, _Server) -> ok;
call_loop(K, Server) ->
    ok = gen_server:call(Server, ping),
    call_loop(K - 1, Server).

oneway(N) ->
    Self = self(),
    Sink = spawn_link(fun() -> sink(N, Self) end),
    T0 = now_ns(),
    send_loop(N, Sink),
    receive drained -> ok end,
    rate(N, now_ns() - T0).

send_loop(0, _Sink) -> ok;
send_loop(K, Sink) ->
    Sink ! {msg, K},
    send_loop(K - 1, Sink).

sink(0, Parent) -> Parent ! drained;
sink(K, Parent) ->
    receive {msg, _} -> sink(K - 1, Parent) end.

init({worker, Notify}) -> worker_init(Notify).
