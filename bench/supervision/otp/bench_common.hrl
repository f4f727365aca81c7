%% Shared by the OTP benchmark escripts (included; escripts cannot share modules).
%% Measured fairly: logger silenced (supervisor reports
%% would otherwise dominate), monotonic nanoseconds, figures printed as
%% machine-readable `metric=value` lines.

%% Not every escript uses every helper.
-compile([nowarn_unused_function]).

bench_setup() ->
    logger:set_primary_config(level, none).

%% First command-line argument as an integer, or Default.
count_arg([], Default) -> Default;
count_arg([N | _], _Default) -> list_to_integer(N).

now_ns() -> erlang:monotonic_time(nanosecond).

%% Nearest-rank percentile of an already sorted list, P in 0..100.
percentile(Sorted, P) ->
    Rank = max(1, min(length(Sorted), ceil(P / 100 * length(Sorted)))),
    lists:nth(Rank, Sorted).

median(List) -> percentile(lists:sort(List), 50).

metric(Name, Value) when is_float(Value) ->
    io:format("~s=~.1f~n", [Name, Value]);
metric(Name, Value) ->
    io:format("~s=~p~n", [Name, Value]).

%% Idle worker: a plain gen_server that does not trap exits (the usual OTP
%% worker). With {notify, Pid} its init tells Pid when it is running.
start_worker(Notify) -> gen_server:start_link(?MODULE, {worker, Notify}, []).

worker_init(none) -> {ok, idle};
worker_init(Pid) ->
    Pid ! {started, self(), now_ns()},
    {ok, idle}.

handle_call(_Request, _From, State) -> {reply, ok, State}.
handle_cast(_Msg, State) -> {noreply, State}.
handle_info(_Msg, State) -> {noreply, State}.
terminate(_Reason, _State) -> ok.

stop_supervisor(Sup) ->
    unlink(Sup),
    gen_server:stop(Sup, shutdown, infinity).
