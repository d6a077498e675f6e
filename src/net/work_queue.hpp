// A fixed pool of worker threads running submitted jobs in arrival order. The threads bound how
// many requests compute at once (`--workers`); the capacity bounds how many wait, so a burst of
// requests is refused at once instead of piling up memory. Waiting holds no thread: the gRPC
// handlers only submit and return.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace disc::net {

class WorkQueue {
 public:
  // `workers` >= 1 threads; at most `capacity` jobs wait (jobs being run do not count).
  WorkQueue(int workers, size_t capacity);
  // Runs every job still waiting, then joins the threads.
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `job` unless `capacity` jobs already wait; false means it was dropped unrun. A job
  // must not throw.
  bool submit(std::function<void()> job);
  size_t capacity() const { return capacity_; }

 private:
  void work();

  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<std::function<void()>> waiting_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started once the rest is built
};

}  // namespace disc::net
