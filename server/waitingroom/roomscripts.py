"""The room's moves as Lua scripts, each checking the status it moves from.

KEYS[1] is the consultation's hash, KEYS[2] its clinic's queue and the last key the queue's
move counter. A script returns {result, HGETALL of the consultation, counter}, so the caller
has the new state without reading it again, or nil when the move is not allowed from the
current status (cancel and end say why). Every move that changes the queue counts itself
in the counter, in the same step: a place read together with the counter then knows which
of the deltas still arriving it already contains (server/signalling/place.py).
"""

ENTER = """
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'waiting' then return {'', redis.call('HGETALL', KEYS[1])} end
if status ~= 'booked' then return nil end
redis.call('HSET', KEYS[1], 'status', 'waiting', 'waiting_since', ARGV[2])
local score = redis.call('HGET', KEYS[1], 'scheduled_start')
if not score or score == '' then score = ARGV[2] end
redis.call('ZADD', KEYS[2], score, ARGV[1])
return {score, redis.call('HGETALL', KEYS[1]), redis.call('INCR', KEYS[#KEYS])}
"""

LEAVE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'waiting' then return nil end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'booked', 'waiting_since', '')
redis.call('ZREM', KEYS[2], ARGV[1])
return {score, redis.call('HGETALL', KEYS[1]), redis.call('INCR', KEYS[#KEYS])}
"""

ADMIT = """
if redis.call('HGET', KEYS[1], 'status') ~= 'waiting' then return nil end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'in_call', 'practitioner_id', ARGV[3],
           'gp_participant', ARGV[4])
if redis.call('HGET', KEYS[1], 'started_at') == '' then
  redis.call('HSET', KEYS[1], 'started_at', ARGV[2])
end
redis.call('ZREM', KEYS[2], ARGV[1])
return {score, redis.call('HGETALL', KEYS[1]), redis.call('INCR', KEYS[#KEYS])}
"""

# Back from a call to the head of the queue: one second ahead of whoever is first now. The
# patient leaves the call (anyone else in it stays) and is watched for presence again, so
# one whose browser is gone is swept as usual.
HOLD = """
if redis.call('HGET', KEYS[1], 'status') ~= 'in_call' then return nil end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local score = ARGV[2]
if first[2] and tonumber(first[2]) <= tonumber(score) then
  score = tostring(tonumber(first[2]) - 1)
end
redis.call('HSET', KEYS[1], 'status', 'waiting', 'waiting_since', ARGV[2])
redis.call('ZADD', KEYS[2], score, ARGV[1])
local patient = redis.call('HGET', KEYS[1], 'patient_participant')
if patient and patient ~= '' then
  redis.call('SREM', KEYS[3], patient)
  redis.call('ZADD', KEYS[4], ARGV[2], patient)
end
return {score, redis.call('HGETALL', KEYS[1]), redis.call('INCR', KEYS[#KEYS])}
"""

TRANSFER = """
if redis.call('HGET', KEYS[1], 'status') ~= 'waiting' then return nil end
redis.call('HSET', KEYS[1], 'practitioner_id', ARGV[1])
return {'', redis.call('HGETALL', KEYS[1])}
"""

# Open the call with the GP's seat unless the consultation is over; '1' if newly started.
OPEN = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'ended' or status == 'cancelled' then return nil end
redis.call('HSET', KEYS[1], 'practitioner_id', ARGV[2], 'gp_participant', ARGV[3])
local started = ''
if redis.call('HGET', KEYS[1], 'started_at') == '' then
  redis.call('HSET', KEYS[1], 'started_at', ARGV[1])
  started = '1'
end
return {started, redis.call('HGETALL', KEYS[1])}
"""

# A booked or waiting consultation is cancelled (and leaves the queue); any other status is
# returned as it is, with nothing changed.
CANCEL = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return nil end
if status ~= 'booked' and status ~= 'waiting' then return {status} end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1]) or ''
local count = 0
if score ~= '' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  count = redis.call('INCR', KEYS[#KEYS])
end
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'waiting_since', '')
return {'cancelled', score, redis.call('HGETALL', KEYS[1]), count}
"""

# Closes the call (in a call, or open without the patient yet) and returns the peak number
# of parties read in the same step, so a late joiner cannot slip past the count; then the
# waiting patient's queue score ('' if none), the queue's counter and who was connected.
# {-1} if not in a call.
END = """
local status = redis.call('HGET', KEYS[1], 'status')
local members = redis.call('SMEMBERS', KEYS[3])
if status ~= 'in_call' and (#members == 0 or status == 'ended' or status == 'cancelled') then
  return {-1}
end
local score = redis.call('ZSCORE', KEYS[2], ARGV[2]) or ''
local count = 0
if score ~= '' then
  redis.call('ZREM', KEYS[2], ARGV[2])
  count = redis.call('INCR', KEYS[#KEYS])
end
redis.call('HSET', KEYS[1], 'status', 'ended', 'ended_at', ARGV[1], 'waiting_since', '')
redis.call('DEL', KEYS[3])
local peak = tonumber(redis.call('HGET', KEYS[1], 'peak_parties') or '0') or 0
return {peak, score, count, unpack(members)}
"""
