// Package vse is the virtual secure element: a software SE whose keys and purse are encrypted at rest under a PIN and changed only by atomic, durable writes.
package vse
