-- wrk script: realistic pageviews for POST /ingest (see bench/wrk.sh). Each request is a
-- pageview of a Zipf-ish page by one of 50,000 visitors, with its own address in
-- X-Forwarded-For (the server trusts 127.0.0.1 as a proxy), a real user agent and a referrer.
local uas = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
}
local refs = { "", "", "https://www.google.com/", "https://news.ycombinator.com/item?id=1", "https://t.co/abc" }
local pages = { "/", "/pricing", "/docs", "/blog", "/signup" }
for i = 6, 400 do pages[i] = (i % 3 == 0) and ("/blog/post-" .. i) or ("/docs/page-" .. i) end

local function zipf()
  -- rank ~ 1/u: most hits on the first pages, a long tail
  local r = math.floor(1 / (math.random() * 0.995 + 0.005))
  return pages[math.min(r, #pages)]
end

request = function()
  local v = math.random(0, 49999)
  local ip = string.format("%d.%d.%d.%d", 81 + v % 100, 2 + math.floor(v / 100) % 200, math.floor(v / 256) % 250 + 1, v % 250 + 1)
  local ref = refs[v % #refs + 1]
  local body = string.format('{"path":"%s","referrer":%s,"sc_w":1440,"lang":"en-US","tsrc":"hk.js"}',
    zipf(), ref == "" and "null" or ('"' .. ref .. '"'))
  return wrk.format("POST", "/ingest", {
    ["Origin"] = "https://shop.test",
    ["Content-Type"] = "text/plain",
    ["User-Agent"] = uas[v % #uas + 1],
    ["X-Forwarded-For"] = ip,
  }, body)
end
